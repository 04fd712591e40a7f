"""A GAN critic with spectrally normalized layers (`torch.nn.utils.parametrizations.spectral_norm`),
in eval (issue #69, the op survey): the parametrization's power iteration leaves `aten.vdot`, which
IREE does not lower; `removed` takes the parametrization off after building (the layer keeps the
normalized weight), as the hint says, and matches torch; `~fx+decompose` exports it too."""

import torch
from _factories import seeded
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from models.api import ModelSpec


def _critic():
    return torch.nn.Sequential(
        spectral_norm(torch.nn.Linear(16, 32)), torch.nn.LeakyReLU(0.2), spectral_norm(torch.nn.Linear(32, 1))
    )


def _spec(remove):
    critic = _critic()
    for _ in range(3):  # a few power iterations, as training leaves them
        critic(torch.randn(4, 16))
    critic.eval()
    if remove:
        for layer in critic:
            if parametrize.is_parametrized(layer):
                parametrize.remove_parametrizations(layer, "weight")
    return ModelSpec(critic, (torch.randn(4, 16),), atol=1e-5, rtol=1e-4)


build, removed = seeded(_spec, build=False, removed=True)
