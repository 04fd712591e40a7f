"""Unit tests for the Hugging Face transformers variants of the reference models
(scripts/models/*__transformers.py); they need torch and transformers importable."""

from __future__ import annotations

import ast
import operator
import sys
from pathlib import Path

import pytest

from tests import model_builds
from tests.scripts_path import scripts_importable

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

ROOT = Path(__file__).parents[2]
SCRIPTS = scripts_importable()

pytestmark = pytest.mark.torch

LLAMA_CACHE = (6, 1, 6, 256, 48)
WHISPER_CACHE = (4, 1, 6, 448, 64)
GPT2_CACHE = (2, 1, 2, 16, 64)
GPT2_GROWN = (2, 1, 2, 17, 64)
EXPECTED = {
    "bert_tiny__transformers": {"main": [(1, 2), (1, 32, 128)]},
    "vit_tiny__transformers": {"main": [(1, 1000)]},
    "gpt2_tiny__transformers": {
        "prefill": [(1, 1, 50257), GPT2_CACHE, GPT2_CACHE],
        "decode": [(1, 1, 50257), GPT2_GROWN, GPT2_GROWN],
    },
    "llama__transformers": model_builds.llama_output_shapes(LLAMA_CACHE),
    "whisper_tiny__transformers": model_builds.whisper_output_shapes(WHISPER_CACHE),
}
NAMES = sorted(EXPECTED)


@pytest.fixture(scope="module")
def built():
    """Each model built once with seed 0, with its outputs."""
    return model_builds.built_once(NAMES)


def _statics(name):
    """FUNCTIONS / REQUIREMENTS as the planner reads them: literals, with `ast`, without importing."""
    tree = ast.parse((SCRIPTS / "models" / f"{name}.py").read_text(encoding="utf-8"))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in ("FUNCTIONS", "REQUIREMENTS"):
                    found[target.id] = ast.literal_eval(node.value)
    return found


@pytest.mark.parametrize("name", NAMES)
def test_statics_are_literals_matching_build(name, built):
    statics = _statics(name)
    specs, _ = built[name]
    functions = statics.get("FUNCTIONS", ("main",))  # a single-function model declares none
    assert isinstance(functions, tuple)
    assert functions == getattr(model_builds.load_model(name), "FUNCTIONS", ("main",))
    assert list(functions) == list(specs)
    assert statics["REQUIREMENTS"] == ("transformers==5.23.0",)


@pytest.mark.parametrize("name", NAMES)
def test_planner_resolves_the_variant_name(name):
    try:
        from iree_matrix.matrix import models
    except ImportError:
        sys.path.insert(0, str(ROOT / "src"))
        from iree_matrix.matrix import models
    public = name.replace("__", "@")  # whisper_tiny__transformers.py is whisper_tiny@transformers
    assert public in models.builtin_names()
    ref = models.resolve(public, ROOT)
    assert ref.file.name == f"{name}.py"
    assert ref.functions == getattr(model_builds.load_model(name), "FUNCTIONS", ("main",))
    assert ref.requirements == ("transformers==5.23.0",)


@pytest.mark.parametrize("name", NAMES)
def test_output_shapes_and_finite(name, built):
    model_builds.assert_outputs_shaped_and_finite(built[name][1], EXPECTED[name])


@pytest.mark.parametrize("name", NAMES)
def test_spec_fields(name, built):
    from models.api import ModelSpec

    specs, _ = built[name]
    for spec in specs.values():
        assert isinstance(spec, ModelSpec)
        assert all(not m.training for m in spec.module.modules())
        assert isinstance(spec.inputs, tuple) and spec.inputs
        assert all(isinstance(t, torch.Tensor) for t in spec.inputs)
        assert 0 < spec.atol < 1e-3 and 0 < spec.rtol < 1e-3
        assert spec.description


@pytest.mark.parametrize("name", NAMES)
class TestSeededBuilds(model_builds.SeededBuilds):
    """Each model's build(seed): the same bits again, another seed's differ, torch's generator untouched."""


@pytest.mark.parametrize("name", NAMES)
def test_norms_not_identity(name, built):
    specs, _ = built[name]
    norms = [m for s in specs.values() for m in s.module.modules() if type(m).__name__.endswith("Norm")]
    assert norms
    for norm in norms:
        assert not torch.allclose(norm.weight, torch.ones_like(norm.weight))


@pytest.mark.parametrize("name", NAMES)
def test_attention_implementations_agree(name, built):
    """The default (sdpa) and transformers' eager attention compute the same function in torch."""
    module = model_builds.load_model(name)
    specs, outs = built[name]
    assert module.ATTN_IMPLEMENTATION == "sdpa"
    for spec in specs.values():
        configs = [m.config for m in spec.module.modules() if hasattr(m, "config")]
        assert configs and all(c._attn_implementation == "sdpa" for c in configs)
    eager = model_builds.specs_of(module.build(seed=0, attn_implementation="eager"))
    for fn, spec in eager.items():
        for a, b in zip(model_builds.outputs_of(spec), outs[fn]):
            assert torch.allclose(a, b, atol=2e-5, rtol=1e-5), fn


def _one_tied_model(built, name, kind, embedding):
    """A causal LM's prefill and decode: one transformers model of class `kind` for both, its lm_head
    the input embedding at `embedding` (tied). Its module, specs and model."""
    specs, _ = built[name]
    model = specs["prefill"].module.model
    assert type(model).__name__ == kind
    assert specs["decode"].module.model is model
    assert model.lm_head.weight is operator.attrgetter(embedding)(model).weight
    return model_builds.load_model(name), specs, model


def test_llama_parameter_count(built):
    # llama2.c's stories15M: 15,191,712 parameters, lm_head tied to embed_tokens (counted once)
    from models.api import count_parameters

    module, specs, _ = _one_tied_model(built, "llama__transformers", "LlamaForCausalLM", "model.embed_tokens")
    assert count_parameters(specs["prefill"].module) == module.PARAMETERS == 15_191_712
    assert count_parameters(specs["decode"].module) == 15_191_712
    assert model_builds.unique_parameter_count(specs) == 15_191_712
    assert round(module.PARAMETERS / 1e6) == 15


def test_whisper_parameter_count(built):
    # Hugging Face counts 37,760,640 ("37.8M") for openai/whisper-tiny: the encoder's 1500 x 384
    # sinusoidal positions are a frozen nn.Embedding parameter; the trainable 37,184,640 is
    # openai's count (its README: "39 M").
    name = "whisper_tiny__transformers"
    module, _, step = model_builds.whisper_counted(built, name, 8_208_384, 29_552_256, 37_760_640)
    specs, _ = built[name]
    frozen = sum(p.numel() for s in specs.values() for p in s.module.parameters() if not p.requires_grad)
    assert frozen == module.ENCODER_POSITION_PARAMETERS == 576_000
    assert module.PARAMETERS - frozen == 37_184_640
    assert step.proj_out.weight is step.decoder.embed_tokens.weight


def _uncached_forward(prefill, prompt, token, then, outs, at):
    """The model's logits, without a cache, over the prompt, the decode step's token and `then`: the
    prefill's output is row `at` - 1 (the prompt's last) and the decode step's row `at`. The tokens
    and the logits."""
    tokens = torch.cat([prompt, token, torch.tensor([[then]])], dim=1)
    full = prefill.model(tokens, use_cache=False).logits
    assert torch.allclose(outs["prefill"][0][0, 0], full[0, at - 1], atol=1e-5, rtol=1e-5)
    assert torch.allclose(outs["decode"][0][0, 0], full[0, at], atol=1e-5, rtol=1e-5)
    return tokens, full


def test_llama_decode_after_prefill_matches_full_forward(built):
    specs, outs = built["llama__transformers"]
    prefill, decode = specs["prefill"].module, specs["decode"].module
    (prompt,) = specs["prefill"].inputs
    token, position, k_cache, v_cache = specs["decode"].inputs
    assert prompt.shape == (1, 32) and position.tolist() == [32]
    _, k_p, v_p = outs["prefill"]
    # decode's caches are prefill's outputs computed in float64 (api.exactly), rounded to float32
    assert torch.allclose(k_cache, k_p, atol=1e-5, rtol=1e-5)
    assert torch.allclose(v_cache, v_p, atol=1e-5, rtol=1e-5)
    # the prompt filled rows 0..31 of every layer; the rest of the static cache is still zero
    assert torch.equal(k_p[:, :, :, 32:], torch.zeros_like(k_p[:, :, :, 32:]))
    assert torch.equal(k_cache[:, :, :, 32:], torch.zeros_like(k_cache[:, :, :, 32:]))
    assert bool((k_p[:, :, :, :32] != 0).any(dim=-1).all())
    with torch.no_grad():
        tokens, full = _uncached_forward(prefill, prompt, token, 1234, outs, at=32)  # (1, 34, vocab)
        logits_d, k_d, v_d = outs["decode"]
        # decode wrote row 32 only
        assert torch.equal(k_d[:, :, :, :32], k_cache[:, :, :, :32])
        assert bool((k_d[:, :, :, 32] != k_cache[:, :, :, 32]).any())
        assert torch.equal(v_d[:, :, :, 33:], v_cache[:, :, :, 33:])
        logits_2, _, _ = decode(tokens[:, 33:], torch.tensor([33]), k_d, v_d)
        assert torch.allclose(logits_2[0, 0], full[0, 33], atol=1e-5, rtol=1e-5)
        # rows after the position are masked out
        k_garbage, v_garbage = k_cache.clone(), v_cache.clone()
        k_garbage[:, :, :, 33:] = 50.0
        v_garbage[:, :, :, 33:] = -50.0
        again = decode(token, position, k_garbage, v_garbage)[0]
        assert torch.allclose(again, logits_d, atol=1e-6)


def test_llama_inputs_do_not_alias_outputs(built):
    """The wrappers copy the caches they are given: a call leaves its inputs unchanged."""
    specs, _ = built["llama__transformers"]
    token, position, k_cache, v_cache = specs["decode"].inputs
    k0, v0 = k_cache.clone(), v_cache.clone()
    model_builds.outputs_of(specs["decode"])
    assert torch.equal(k_cache, k0) and torch.equal(v_cache, v0)


def test_whisper_decoder_step_matches_full_decoder(built):
    """Stepping positions 0..3 with the static cache gives rows 0..3 of the full decoder forward."""
    module = model_builds.load_model("whisper_tiny__transformers")
    specs, outs = built["whisper_tiny__transformers"]
    step = specs["decoder_step"].module
    token, position, k_in, v_in, audio = specs["decoder_step"].inputs
    assert position.tolist() == [module.EXAMPLE_POSITION] == [3]
    tokens = list(module.PROMPT) + [int(token)]
    with torch.no_grad():
        # the example's encoder_hidden_states are the encoder's output on the example mel (computed
        # in float64 by api.exactly, rounded to float32)
        assert torch.allclose(audio, outs["encoder"][0], atol=1e-5, rtol=1e-5)
        hidden = step.decoder(input_ids=torch.tensor([tokens]), encoder_hidden_states=audio, use_cache=False)
        full = step.proj_out(hidden.last_hidden_state)  # (1, 4, vocab)
        assert torch.allclose(outs["decoder_step"][0][0, 0], full[0, 3], atol=1e-5, rtol=1e-5)
        k, v = model_builds.noise_caches(WHISPER_CACHE)
        for pos, tok in enumerate(tokens):
            logits, k2, v2 = step(torch.tensor([[tok]]), torch.tensor([pos]), k, v, audio)
            assert torch.allclose(logits[0, 0], full[0, pos], atol=1e-5, rtol=1e-5), pos
            changed = (k2 != k).any(dim=-1).any(dim=2)[:, 0]  # (layers, rows)
            assert changed.any(dim=0).nonzero().flatten().tolist() == [pos]
            assert torch.equal(v2[:, :, :, pos + 1 :], v[:, :, :, pos + 1 :])
            k, v = k2, v2
        # rows at and after the position do not matter
        k_other, v_other = k_in.clone(), v_in.clone()
        k_other[:, :, :, 3:] = 100.0
        v_other[:, :, :, 3:] = -100.0
        a = step(token, position, k_in, v_in, audio)[0]
        b = step(token, position, k_other, v_other, audio)[0]
        assert torch.allclose(a, b, atol=1e-6)


def test_whisper_encoder_positions_are_sinusoids(built):
    specs, _ = built["whisper_tiny__transformers"]
    pe = specs["encoder"].module.encoder.embed_positions.weight
    assert pe.shape == (1500, 384) and not pe.requires_grad
    assert torch.equal(pe[0, :192], torch.zeros(192)) and torch.equal(pe[0, 192:], torch.ones(192))


def test_bert_parameter_count_and_padding(built):
    # the compact BERT L-2/H-128 (bert-tiny): BertModel 4,385,920 ("4.4M") + a 2-class head of 258
    from models.api import count_parameters

    module = model_builds.load_model("bert_tiny__transformers")
    specs, outs = built["bert_tiny__transformers"]
    spec = specs["main"]
    assert count_parameters(spec.module) == module.PARAMETERS == 4_386_178
    assert count_parameters(spec.module.model.bert) == module.ENCODER_PARAMETERS == 4_385_920
    input_ids, mask, types = spec.inputs
    assert mask.tolist() == [[1] * 24 + [0] * 8]
    assert types.tolist() == [[0] * 12 + [1] * 12 + [0] * 8]
    # the padding is masked: other token ids there change neither the logits nor a real position
    other = input_ids.clone()
    other[0, 24:] = 1234
    with torch.no_grad():
        logits, hidden = spec.module(other, mask, types)
    assert torch.allclose(logits, outs["main"][0], atol=1e-6)
    assert torch.allclose(hidden[:, :24], outs["main"][1][:, :24], atol=1e-6)


def test_vit_parameter_count(built):
    # DeiT-Ti / ViT-Ti (hidden 192, 12 layers, 3 heads, patch 16, 1000 classes): 5,717,416
    from models.api import count_parameters

    module = model_builds.load_model("vit_tiny__transformers")
    specs, _ = built["vit_tiny__transformers"]
    assert count_parameters(specs["main"].module) == module.PARAMETERS == 5_717_416
    assert specs["main"].inputs[0].shape == (1, 3, 224, 224)


def test_gpt2_parameter_count_and_tied_head(built):
    from models.api import count_parameters

    module, specs, model = _one_tied_model(
        built, "gpt2_tiny__transformers", "GPT2LMHeadModel", "transformer.wte"
    )
    assert (
        count_parameters(model)
        == model_builds.unique_parameter_count(specs)
        == module.PARAMETERS
        == 6_846_080
    )


def test_gpt2_decode_after_prefill_matches_full_forward(built):
    """The dynamic-cache decode step at position 16 is row 16 of the uncached forward, and a second
    step on its grown caches is row 17."""
    specs, outs = built["gpt2_tiny__transformers"]
    prefill, decode = specs["prefill"].module, specs["decode"].module
    (prompt,) = specs["prefill"].inputs
    token, k_cache, v_cache = specs["decode"].inputs
    _, k_p, v_p = outs["prefill"]
    assert torch.allclose(k_cache, k_p, atol=1e-5, rtol=1e-5)
    assert torch.allclose(v_cache, v_p, atol=1e-5, rtol=1e-5)
    with torch.no_grad():
        tokens, full = _uncached_forward(prefill, prompt, token, 4321, outs, at=16)  # (1, 18, vocab)
        logits_d, k_d, v_d = outs["decode"]
        assert torch.equal(k_d[:, :, :, :16], k_cache) and torch.equal(v_d[:, :, :, :16], v_cache)
        logits_2, k_2, _ = decode(tokens[:, 17:], k_d, v_d)
        assert k_2.shape[3] == 18
        assert torch.allclose(logits_2[0, 0], full[0, 17], atol=1e-5, rtol=1e-5)
    # the inputs are not written in place
    assert torch.equal(k_cache, specs["decode"].inputs[1])


def test_gpt2_static_cache_variant_agrees(built):
    """`cache_implementation="static"` (llama@transformers' recipe) computes the same logits."""
    module = model_builds.load_model("gpt2_tiny__transformers")
    _, outs = built["gpt2_tiny__transformers"]
    static = module.build(seed=0, cache_implementation="static")
    token, position, k_cache, v_cache = static["decode"].inputs
    assert position.tolist() == [16] and k_cache.shape == (2, 1, 2, 128, 64)
    assert torch.equal(k_cache[:, :, :, 16:], torch.zeros_like(k_cache[:, :, :, 16:]))
    got = {fn: model_builds.outputs_of(spec) for fn, spec in static.items()}
    assert torch.allclose(got["prefill"][0], outs["prefill"][0], atol=1e-6)
    assert torch.allclose(got["decode"][0], outs["decode"][0], atol=1e-5, rtol=1e-5)
    assert torch.allclose(got["decode"][1][:, :, :, :17], outs["decode"][1], atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="cache_implementation 'paged' is not one of dynamic, static"):
        module.build(seed=0, cache_implementation="paged")


@pytest.mark.parametrize(
    "name, function", [("llama__transformers", "prefill"), ("llama__transformers", "decode"),
                       ("whisper_tiny__transformers", "decoder_step")]
)  # fmt: skip
def test_select_cache_recipe_writes_the_same_cache(name, function, built):
    """The `select-cache` recipe (scripts/export_recipe.py) traces StaticLayer.update as a gather and
    a select instead of index_copy_: the function's outputs must not change (to float32 rounding)."""
    import export_recipe

    spec = model_builds.load_model(name).build(0)[function]
    with export_recipe.cache_patch({"select-cache"}):
        selected = model_builds.outputs_of(spec)
    reference = built[name][1][function]
    assert len(selected) == len(reference)
    for got, want in zip(selected, reference):
        assert torch.allclose(got, want, rtol=0, atol=1e-6), float((got - want).abs().max())


def test_bert_4d_mask_variant_agrees(built):
    """`mask_kind="4d"` hands the model a boolean (batch, 1, query, key) mask: the same function."""
    module = model_builds.load_model("bert_tiny__transformers")
    _, outs = built["bert_tiny__transformers"]
    spec = module.build(seed=0, mask_kind="4d")
    for a, b in zip(model_builds.outputs_of(spec), outs["main"]):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="mask_kind '3d' is not one of 2d, 4d"):
        module.build(seed=0, mask_kind="3d")
