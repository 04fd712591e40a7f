"""Unit tests for the reference models in scripts/models (need torch importable)."""

from __future__ import annotations

import pytest

from tests import model_builds
from tests.scripts_path import scripts_importable

torch = pytest.importorskip("torch")

scripts_importable()

pytestmark = [pytest.mark.torch, pytest.mark.heavy]  # every built-in model built in torch, some twice

# single-function models: module name -> expected output shape
EXPECTED_OUTPUT_SHAPES = {
    "mobilenet_v2": (1, 1000),
    "mobilenet_v3_small": (1, 1000),
    "quartznet5x5": (1, 128, 29),
    "tiny_cnn": (1, 10),
    "ds_cnn_kws": (1, 12),
    "yolox_nano": (1, 3549, 85),
}
# models whose build() returns named functions: module name -> function -> output shapes
WHISPER_CACHE = (4, 1, 448, 384)
LLAMA_CACHE = (6, 1, 256, 6, 48)
EXPECTED_FUNCTIONS = {
    "ops": {
        "softmax": [(1, 6, 1500, 1500)],
        "layer_norm": [(1, 1500, 384)],
        "matmul": [(1, 1500, 1536)],
        "sdpa": [(1, 6, 1500, 64)],
        "conv2d_nchw": [(1, 32, 112, 112)],
        "depthwise_conv": [(1, 96, 56, 56)],
    },
    "llama_stories15m": model_builds.llama_output_shapes(LLAMA_CACHE),
    "whisper_tiny": model_builds.whisper_output_shapes(WHISPER_CACHE),
}
SINGLE_NAMES = sorted(EXPECTED_OUTPUT_SHAPES)
MODEL_NAMES = sorted(SINGLE_NAMES + list(EXPECTED_FUNCTIONS))
# model -> function -> expected output shapes, for every model ("main" for single-function ones)
ALL_FUNCTIONS = dict(EXPECTED_FUNCTIONS)
ALL_FUNCTIONS.update({name: {"main": [shape]} for name, shape in EXPECTED_OUTPUT_SHAPES.items()})


@pytest.fixture(scope="module")
def built():
    """Each model built once with seed 0, with its outputs, shared by the tests."""
    return model_builds.built_once(MODEL_NAMES)


@pytest.mark.parametrize("name", MODEL_NAMES)
class TestSeededBuilds(model_builds.SeededBuilds):
    """Each model's build(seed): the same bits again, another seed's differ, torch's generator untouched."""


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_parameter_count(name, built):
    from models.api import count_parameters

    specs, _ = built[name]
    if len(specs) == 1:
        assert count_parameters(specs["main"].module) == model_builds.load_model(name).PARAMETERS
    assert model_builds.unique_parameter_count(specs) == model_builds.load_model(name).PARAMETERS


def test_mobilenet_v2_published_parameter_count(built):
    from models.api import count_parameters

    assert model_builds.load_model("mobilenet_v2").PARAMETERS == 3_504_872
    assert count_parameters(built["mobilenet_v2"][0]["main"].module) == 3_504_872


def test_mobilenet_v3_small_published_parameter_count(built):
    # torchvision's MobileNet_V3_Small_Weights.IMAGENET1K_V1.meta["num_params"]
    from models.api import count_parameters

    assert model_builds.load_model("mobilenet_v3_small").PARAMETERS == 2_542_856
    assert count_parameters(built["mobilenet_v3_small"][0]["main"].module) == 2_542_856


def test_quartznet_parameter_count_near_published(built):
    # Kriman et al. report "6.7M" for QuartzNet 5x5.
    from models.api import count_parameters

    count = count_parameters(built["quartznet5x5"][0]["main"].module)
    assert count == 6_713_181
    assert round(count / 1e6, 1) == 6.7


def test_yolox_nano_parameter_count_near_published(built):
    # The YOLOX README and paper list "0.91M" for YOLOX-Nano.
    from models.api import count_parameters

    module = model_builds.load_model("yolox_nano")
    model = built["yolox_nano"][0]["main"].module
    count = count_parameters(model)
    assert count == module.PARAMETERS == 912_159
    assert round(count / 1e6, 2) == 0.91
    backbone = count_parameters(model.backbone.backbone)
    assert backbone == module.BACKBONE_PARAMETERS
    assert count_parameters(model.backbone) - backbone == module.NECK_PARAMETERS
    assert count_parameters(model.head) == module.HEAD_PARAMETERS


def test_whisper_tiny_parameter_count(built):
    # openai/whisper tiny: 37,184,640 trainable parameters; Hugging Face's 37,760,640 ("37.8M")
    # also counts the encoder's 1500 x 384 sinusoidal positions, which openai keeps as a buffer.
    module, encoder, step = model_builds.whisper_counted(
        built, "whisper_tiny", 7_632_384, 29_552_256, 37_184_640
    )
    assert module.PARAMETERS + encoder.encoder.positional_embedding.numel() == 37_760_640
    assert "encoder.positional_embedding" not in dict(encoder.named_parameters())
    # the output projection is the token embedding (tied): counted once
    assert step.decoder.token_embedding.weight.numel() == 51865 * 384


def test_llama_stories15m_parameter_count(built):
    # llama2.c's stories15M: 15,191,712 parameters with tok_embeddings tied to output.
    from models.api import count_parameters

    specs, _ = built["llama_stories15m"]
    prefill, decode = specs["prefill"].module, specs["decode"].module
    assert prefill.output.weight is prefill.tok_embeddings.weight
    assert decode.output.weight is prefill.output.weight
    assert count_parameters(specs["prefill"].module) == 15_191_712
    assert count_parameters(specs["decode"].module) == 15_191_712
    assert model_builds.load_model("llama_stories15m").PARAMETERS == 15_191_712


@pytest.mark.parametrize("name", sorted(EXPECTED_FUNCTIONS))
def test_function_names(name, built):
    specs, _ = built[name]
    assert sorted(specs) == sorted(EXPECTED_FUNCTIONS[name])
    assert all(fn.isidentifier() for fn in specs)
    # the planner reads FUNCTIONS without importing torch; it must name build()'s functions
    assert model_builds.load_model(name).FUNCTIONS == tuple(specs)


def test_whisper_state_dicts_are_openai_halves(built):
    specs, _ = built["whisper_tiny"]
    encoder = specs["encoder"].module.state_dict()
    decoder = specs["decoder_step"].module.state_dict()
    assert all(key.startswith("encoder.") for key in encoder)
    assert all(key.startswith("decoder.") for key in decoder)
    assert "encoder.positional_embedding" in encoder  # a persistent buffer in openai's code too
    for key in (
        "encoder.conv1.weight",
        "encoder.blocks.3.mlp.2.bias",
        "encoder.ln_post.weight",
        "decoder.token_embedding.weight",
        "decoder.positional_embedding",
        "decoder.blocks.0.cross_attn.key.weight",
        "decoder.blocks.3.cross_attn_ln.bias",
        "decoder.ln.weight",
    ):
        assert key in encoder or key in decoder, key
    assert "decoder.blocks.0.attn.key.bias" not in decoder  # openai's key projections have no bias
    assert len(encoder) == 4 + 1 + 4 * 15 + 2
    assert len(decoder) == 2 + 4 * 24 + 2


def test_llama_state_dicts_are_llama2c(built):
    specs, _ = built["llama_stories15m"]
    per_layer = [
        "attention.wq.weight",
        "attention.wk.weight",
        "attention.wv.weight",
        "attention.wo.weight",
        "feed_forward.w1.weight",
        "feed_forward.w2.weight",
        "feed_forward.w3.weight",
        "attention_norm.weight",
        "ffn_norm.weight",
    ]
    expected = {"tok_embeddings.weight", "norm.weight", "output.weight"}
    expected |= {f"layers.{i}.{name}" for i in range(6) for name in per_layer}
    for spec in specs.values():
        assert set(spec.module.state_dict()) == expected


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_output_shape_and_finite(name, built):
    model_builds.assert_outputs_shaped_and_finite(built[name][1], ALL_FUNCTIONS[name])


def test_quartznet_output_is_log_softmax(built):
    out = built["quartznet5x5"][1]["main"][0]
    sums = out.exp().sum(dim=-1)
    assert torch.allclose(sums, torch.ones_like(sums), atol=1e-4)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_spec_fields(name, built):
    from models.api import ModelSpec

    specs, _ = built[name]
    for spec in specs.values():
        assert isinstance(spec, ModelSpec)
        assert not spec.module.training
        assert all(not m.training for m in spec.module.modules())
        assert isinstance(spec.inputs, tuple) and spec.inputs
        assert all(isinstance(t, torch.Tensor) for t in spec.inputs)
        assert spec.atol > 0 and spec.rtol > 0
        assert spec.description


@pytest.mark.parametrize("name", SINGLE_NAMES)
def test_batchnorm_not_identity(name, built):
    spec = built[name][0]["main"]
    bns = [m for m in spec.module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert bns
    for bn in bns:
        assert not torch.allclose(bn.running_mean, torch.zeros_like(bn.running_mean))
        assert not torch.allclose(bn.running_var, torch.ones_like(bn.running_var))
        assert not torch.allclose(bn.weight, torch.ones_like(bn.weight))


@pytest.mark.parametrize("name", sorted(EXPECTED_FUNCTIONS))
def test_norms_not_identity(name, built):
    specs, _ = built[name]
    norms = {
        id(m): m
        for spec in specs.values()
        for m in spec.module.modules()
        if isinstance(m, torch.nn.LayerNorm) or type(m).__name__ == "RMSNorm"
    }
    assert norms
    for norm in norms.values():
        assert not torch.allclose(norm.weight, torch.ones_like(norm.weight))


def test_mobilenet_v3_small_layout(built):
    model = built["mobilenet_v3_small"][0]["main"].module
    blocks = list(model.features)[1:-1]
    assert len(blocks) == 11
    assert sum(1 for m in model.modules() if type(m).__name__ == "SqueezeExcitation") == 9
    assert model.classifier[0].out_features == 1024
    assert model.classifier[2].p == 0.2
    assert isinstance(model.classifier[1], torch.nn.Hardswish)


def test_yolox_nano_decoded_output(built):
    spec = built["yolox_nano"][0]["main"]
    out = built["yolox_nano"][1]["main"][0][0]
    head = spec.module.head
    # the static grid equals what the original builds from the feature maps' shapes
    with torch.no_grad():
        features = spec.module.backbone(spec.inputs[0])
    grids = []
    for feature in features:
        hsize, wsize = feature.shape[-2:]
        yv, xv = torch.meshgrid(torch.arange(hsize), torch.arange(wsize), indexing="ij")
        grids.append(torch.stack((xv, yv), 2).view(1, -1, 2))
    assert torch.equal(head.grids, torch.cat(grids, dim=1).float())
    assert [f.shape[-1] for f in features] == [52, 26, 13]
    assert "grids" not in spec.module.state_dict()
    # (cx, cy, w, h) in pixels, sigmoid scores
    assert bool((out[:, 2:4] > 0).all())
    assert bool(((out[:, 4:] > 0) & (out[:, 4:] < 1)).all())
    assert 0 < float(out[:, 0].mean()) < 416 and 0 < float(out[:, 1].mean()) < 416


def test_whisper_decoder_step_matches_full_decoder(built):
    """Stepping through positions 0..p with the cache gives rows 0..p of the full forward."""
    module = model_builds.load_model("whisper_tiny")
    specs, outs = built["whisper_tiny"]
    step = specs["decoder_step"].module
    token, position, _, _, audio = specs["decoder_step"].inputs
    tokens = list(module.PROMPT) + [int(token)]
    assert int(position) == len(module.PROMPT) == 3
    with torch.no_grad():
        full = step.decoder(torch.tensor([tokens]), audio)  # (1, 4, vocab)
        # the example's own output: position 3 after the prompt's three steps
        assert torch.allclose(outs["decoder_step"][0][0, 0], full[0, 3], atol=1e-5, rtol=1e-5)
        # from empty caches, with garbage in the rows the mask must hide
        k, v = model_builds.noise_caches(WHISPER_CACHE)
        for pos, tok in enumerate(tokens):
            logits, k2, v2 = step(torch.tensor([[tok]]), torch.tensor([pos]), k, v, audio)
            assert torch.allclose(logits[0, 0], full[0, pos], atol=1e-5, rtol=1e-5), pos
            # only row ``pos`` of each layer's cache changed
            changed = (k2 != k).any(dim=-1).any(dim=0)[0]
            assert changed.nonzero().flatten().tolist() == [pos]
            assert torch.equal(v2[:, :, pos + 1 :], v[:, :, pos + 1 :])
            k, v = k2, v2
        # different garbage after the position changes nothing
        k_other, v_other = k.clone(), v.clone()
        k_other[:, :, 3:] = 100.0
        v_other[:, :, 3:] = -100.0
        a = step(token, position, k, v, audio)[0]
        b = step(token, position, k_other, v_other, audio)[0]
        assert torch.allclose(a, b, atol=1e-6)


def test_whisper_encoder_positional_embedding():
    module = model_builds.load_model("whisper_tiny")
    pe = module.sinusoids(1500, 384)
    assert pe.shape == (1500, 384)
    assert torch.equal(pe[0, :192], torch.zeros(192)) and torch.equal(pe[0, 192:], torch.ones(192))


def test_llama_decode_matches_full_forward(built):
    """prefill + decode steps give the full causal forward's last-position logits."""
    specs, outs = built["llama_stories15m"]
    prefill, decode = specs["prefill"].module, specs["decode"].module
    (prompt,) = specs["prefill"].inputs
    token, position, k_cache, v_cache = specs["decode"].inputs
    assert prompt.shape == (1, 32) and int(position) == 32
    logits_p, k_p, v_p = outs["prefill"]
    # decode's caches are prefill's outputs computed in float64 (api.exactly), rounded to float32
    assert torch.allclose(k_cache, k_p, atol=1e-5, rtol=1e-5)
    assert torch.allclose(v_cache, v_p, atol=1e-5, rtol=1e-5)
    assert torch.equal(k_p[:, :, 32:], torch.zeros_like(k_p[:, :, 32:]))
    assert torch.equal(k_cache[:, :, 32:], torch.zeros_like(k_cache[:, :, 32:]))
    with torch.no_grad():
        tokens = torch.cat([prompt, token, torch.tensor([[1234]])], dim=1)
        full = prefill.forward_all(tokens)  # (1, 34, vocab)
        assert torch.allclose(logits_p[0, 0], full[0, 31], atol=1e-5, rtol=1e-5)
        logits_d, k_d, v_d = outs["decode"]
        assert torch.allclose(logits_d[0, 0], full[0, 32], atol=1e-5, rtol=1e-5)
        # decode wrote row 32 of the caches it was given, and nothing else
        assert torch.equal(k_d[:, :, :32], k_cache[:, :, :32])
        assert not torch.equal(k_d[:, :, 32], k_cache[:, :, 32])
        assert torch.equal(k_d[:, :, 33:], k_cache[:, :, 33:])
        logits_2, _, _ = decode(tokens[:, 33:], torch.tensor([33]), k_d, v_d)
        assert torch.allclose(logits_2[0, 0], full[0, 33], atol=1e-5, rtol=1e-5)
        # rows after the position are masked out
        k_garbage, v_garbage = k_cache.clone(), v_cache.clone()
        k_garbage[:, :, 33:] = 50.0
        v_garbage[:, :, 33:] = -50.0
        again = decode(token, position, k_garbage, v_garbage)[0]
        assert torch.allclose(again, logits_d, atol=1e-6)
