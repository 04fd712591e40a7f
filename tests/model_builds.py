"""The reference models of scripts/models built in torch, for the tests of the built-in models
(tests/processes/test_models.py) and of their transformers variants (tests/unit/test_models_transformers.py):
one copy of how a model is loaded, built and run, and of the checks every one of them is held to
(a seeded build that is the same bits again, a seed that changes it, torch's global generator left
alone). Needs torch: a caller importorskips it first (torch is imported here only when called)."""

from __future__ import annotations

import importlib
from typing import Any

from tests.scripts_path import scripts_importable

scripts_importable()  # the models are `models.NAME`, as the export worker imports them

Specs = dict[str, Any]  # function name -> ModelSpec
Outputs = dict[str, list[Any]]  # function name -> its outputs (tensors)
Built = dict[str, tuple[Specs, Outputs]]  # model name -> built_once's (specs, outputs)


def llama_output_shapes(cache: tuple[int, ...]) -> dict[str, list[tuple[int, ...]]]:
    """A llama's functions (stories15M, by llama2.c's port or by transformers) and each one's output
    shapes: one token's logits over the 32,000-token vocabulary, then its K and V caches (`cache`, the
    port's own layout)."""
    return {"prefill": [(1, 1, 32000), cache, cache], "decode": [(1, 1, 32000), cache, cache]}


def whisper_output_shapes(cache: tuple[int, ...]) -> dict[str, list[tuple[int, ...]]]:
    """whisper tiny's functions (by openai's code or by transformers) and each one's output shapes: the
    encoder's 1500 audio frames of 384, a decoder step's logits over 51,865 tokens and its caches."""
    return {"encoder": [(1, 1500, 384)], "decoder_step": [(1, 1, 51865), cache, cache]}


def load_model(name: str) -> Any:
    return importlib.import_module("models." + name)


def specs_of(built: Any) -> Specs:
    """A build() result as {function name: ModelSpec} ("main" for a single ModelSpec)."""
    return dict(built) if isinstance(built, dict) else {"main": built}


def outputs_of(spec: Any) -> list[Any]:
    """The spec's outputs on its example inputs, as a list of tensors."""
    import torch

    with torch.no_grad():
        out = spec.module(*spec.inputs)
    return list(out) if isinstance(out, (tuple, list)) else [out]


def unique_parameter_count(specs: Specs) -> int:
    """Parameters of all the functions' modules together, each shared tensor once."""
    seen = {}
    for spec in specs.values():
        for p in spec.module.parameters():
            seen[id(p)] = p.numel()
    return sum(seen.values())


def built_once(names: list[str]) -> Built:
    """Each model built with seed 0: name -> (its specs, each function's outputs), for a module-scoped
    fixture the tests share."""
    result = {}
    for name in names:
        specs = specs_of(load_model(name).build(seed=0))
        result[name] = (specs, {fn: outputs_of(spec) for fn, spec in specs.items()})
    return result


def assert_outputs_shaped_and_finite(outs: Outputs, shapes: dict[str, list[tuple[int, ...]]]) -> None:
    """Each function's outputs: of its shapes in `shapes`, float32, finite, and not degenerate."""
    import torch

    for fn, want in shapes.items():
        assert [tuple(out.shape) for out in outs[fn]] == want, fn
        for out in outs[fn]:
            assert out.dtype == torch.float32
            assert bool(torch.isfinite(out).all())
            assert float(out.std()) > 1e-3  # not degenerate


def whisper_counted(built: Built, name: str, encoder: int, decoder: int, total: int) -> tuple[Any, Any, Any]:
    """A whisper's parameters, as its module declares them and as these numbers say: the encoder's
    (ENCODER_PARAMETERS), the decoder step's (DECODER_PARAMETERS), and all of them with a shared one
    counted once (PARAMETERS). Its module, encoder and decoder step, for the checks of its own."""
    from models.api import count_parameters

    module = load_model(name)
    specs, _ = built[name]
    encoder_module, step = specs["encoder"].module, specs["decoder_step"].module
    assert count_parameters(encoder_module) == module.ENCODER_PARAMETERS == encoder
    assert count_parameters(step) == module.DECODER_PARAMETERS == decoder
    assert unique_parameter_count(specs) == module.PARAMETERS == total
    return module, encoder_module, step


def noise_caches(shape: tuple[int, ...]) -> tuple[Any, Any]:
    """K and V caches of `shape` full of seeded noise (generator seed 7): rows that a decoder step
    writes, or that its attention mask must hide."""
    import torch

    gen = torch.Generator().manual_seed(7)
    return torch.randn(shape, generator=gen), torch.randn(shape, generator=gen)


class SeededBuilds:
    """The checks every reference model's build is held to, for a test module to run on its models:
    subclassed there as `TestSeededBuilds`, parametrized by `name`, beside a module-scoped `built`
    fixture (built_once's). Not collected here: its name has no `Test`."""

    def test_build_is_deterministic(self, name: str, built: Built) -> None:
        """build(seed=0) again: the same functions in the same order, and bit for bit the same
        inputs, state and outputs."""
        import torch

        specs, outs = built[name]
        again = specs_of(load_model(name).build(seed=0))
        assert list(again) == list(specs)
        for fn, spec in specs.items():
            assert len(spec.inputs) == len(again[fn].inputs), fn
            for a, b in zip(spec.inputs, again[fn].inputs):
                assert torch.equal(a, b), fn
            state, state2 = spec.module.state_dict(), again[fn].module.state_dict()
            assert state.keys() == state2.keys()
            for key in state:
                assert torch.equal(state[key], state2[key]), key
            for a, b in zip(outs[fn], outputs_of(again[fn])):
                assert torch.equal(a, b), fn

    def test_seed_changes_weights_and_inputs(self, name: str, built: Built) -> None:
        """build(seed=1) differs from seed 0's in some input and in its first output, in every
        function (token ids and positions may be fixed, a prompt, but some input must depend on the seed)."""
        import torch

        specs, outs = built[name]
        other = specs_of(load_model(name).build(seed=1))
        for fn, spec in specs.items():
            assert any(not torch.equal(a, b) for a, b in zip(spec.inputs, other[fn].inputs)), fn
            assert not torch.equal(outs[fn][0], outputs_of(other[fn])[0]), fn

    def test_build_leaves_global_rng_alone(self, name: str) -> None:
        """A build draws from its own seeded generator: torch's global one is where it was."""
        import torch

        torch.manual_seed(1234)
        expected = torch.rand(4)
        torch.manual_seed(1234)
        load_model(name).build(seed=0)
        assert torch.equal(torch.rand(4), expected)
