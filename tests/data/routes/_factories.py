"""The factories the route models share, a sibling module as a user's model imports its own (the
tool puts the model file's folder on the path and the sandbox binds it): most models here are one
`_spec(choice)` built two ways, `build` as first written and the hint's remedy (`by_hand`,
`removed`, ...), each seeded alike."""

import torch


def seeded(spec, **choices):
    """One factory `NAME(seed=0)` for each `NAME=CHOICE`, in the order given: `spec(CHOICE)` after
    `torch.manual_seed(seed)`, so each way draws the same weights and inputs."""

    def factory(name, choice):
        def made(seed=0):
            torch.manual_seed(seed)
            return spec(choice)

        made.__name__ = made.__qualname__ = name
        return made

    return tuple(factory(name, choice) for name, choice in choices.items())
