"""Whisper tiny as Hugging Face transformers builds and runs it: the encoder, and one decoder step
with transformers' own static KV cache (``EncoderDecoderCache`` of a ``StaticCache``).

The upstream variant of ``whisper_tiny`` (plain torch), named ``whisper_tiny@transformers``.
Source: transformers 5.23.0, ``models/whisper/modeling_whisper.py``
(``WhisperForConditionalGeneration``, ``WhisperEncoder``, ``WhisperDecoder``,
``WhisperAttention``), ``cache_utils.py`` (``StaticCache``, ``StaticLayer``, ``DynamicCache``,
``EncoderDecoderCache``) and the export recipe ``integrations/executorch.py``
(``Seq2SeqLMDecoderExportableModuleWithStaticCache``); model: A. Radford et al., "Robust Speech
Recognition via Large-Scale Weak Supervision", 2022, arXiv:2212.04356; config: openai/whisper-tiny's
``config.json`` (d_model 384, 4 + 4 layers, 6 heads, ffn 1536, vocab 51865, 80 mel bins, 1500
source and 448 target positions, pad/bos/eos 50257, decoder start 50258) as a ``WhisperConfig``.
No weights are downloaded.

Functions (``build()`` returns both, each exported as its own "main"); every transformers call is
the library's own code, the wrappers only move tensors in and out of the caches:

``encoder``: ``input_features`` (1, 80, 3000) log-mel -> ``model.model.encoder(...)
.last_hidden_state`` (1, 1500, 384).

``decoder_step``: ``input_ids`` (1, 1) int64, ``cache_position`` (1,) int64, ``k_cache`` and
``v_cache`` (4, 1, 6, 448, 64) = (decoder layers, batch, heads, max_cache_len, head_dim), every
self-attention ``StaticLayer``'s ``keys`` / ``values`` stacked, and ``encoder_hidden_states``
(1, 1500, 384) -> logits (1, 1, 51865) (``proj_out``) and the caches with row ``cache_position``
written. As in the recipe, the decoder gets ``EncoderDecoderCache(StaticCache(config,
max_cache_len=448), DynamicCache(config))`` with the static cache ``early_initialization``-ed and
every layer's ``cumulative_length`` set to ``cache_position``; the input caches are copied into
it (the recipe keeps them as module buffers mutated in place). ``StaticLayer.update`` writes the
new row with ``index_copy_``; the decoder derives the position and the causal mask (over all
448 rows) from the cache. The cross-attention ``DynamicCache`` starts empty, so each call
projects ``encoder_hidden_states`` to keys and values again (the recipe's first call does the
same): about 1.77 G multiply-adds, most of the step.

Composition (the generate loop is Python and not exported)::

    audio = encoder(mel)
    k = v = zeros(4, 1, 6, 448, 64); token = <|startoftranscript|>
    for pos in range(448):
        logits, k, v = decoder_step(tensor([[token]]), tensor([pos]), k, v, audio)
        token = argmax(logits[0, -1])                 # (prompt tokens are forced first)

Step p gives row p of the full (uncached) decoder forward over tokens 0..p; the unit tests check
this.

Parameters: 37,760,640, Hugging Face's "37.8M" for openai/whisper-tiny = encoder 8,208,384
(including the 1500 x 384 = 576,000 fixed sinusoidal positions, which transformers keeps as a
frozen ``nn.Embedding`` parameter) + decoder 29,552,256 (``proj_out`` is tied to
``embed_tokens``, counted once). The 37,184,640 trainable ones are openai's count (and
``whisper_tiny``'s); openai's README rounds to "39 M". ``encoder`` has the encoder's parameters,
``decoder_step`` the decoder's. Weights: transformers' own initialisation (``_init_weights``:
linear, convolution and embedding weights from N(0, 0.02^2), the encoder positions set to the
sinusoids), drawn from ``seed``, then every LayerNorm's weight from U(0.5, 1.5) and bias from
N(0, 0.1^2) so that none is the identity. Inputs (from ``seed + 1``): a fake normalised log-mel
from U(-1, 1); ``decoder_step`` gets the encoder's output on it, caches after forcing
<|startoftranscript|> <|en|> <|transcribe|> at positions 0-2 (rows 3.. hold N(0, 1) garbage
that the mask must hide), token <|notimestamps|> and position 3.

Attention: transformers' default, ``sdpa`` (``ATTN_IMPLEMENTATION``); ``build(seed, "eager")``
selects the library's ``eager_attention_forward`` (same function in torch, checked by the unit
tests). ``WhisperAttention`` multiplies q by 64 ** -0.5 itself and calls attention with
``scaling=1.0``.

Measured with torch 2.13.0 (CPU), iree-turbine 3.9.0 and IREE 3.9.0 (``iree-compile
--iree-hal-target-backends=llvm-cpu --iree-llvmcpu-target-cpu=host``, x86-64 znver4):

- export (``aot.export``, strict ``torch.export``): both functions succeed (4 s, 9 s).
- ``encoder`` compiles (5 s) and runs, but its output is WRONG: largest absolute error 0.057
  (outputs up to 4.6). IREE 3.9 lowers ``scaled_dot_product_attention(..., scale=1.0)`` with the
  default 1/sqrt(64) scale, so q is scaled twice: IREE's output matches torch with
  ``WhisperAttention.scaling`` squared to 3.8e-6. With ``"eager"`` attention it is right:
  error 3.8e-6. ``iree-benchmark-module`` medians (3 repetitions, 2 cores shared with other
  work, so two runs differed up to 2x): 3.2-4.8 s with ``sdpa``, 1.1-2.2 s with ``"eager"``.
- ``decoder_step`` FAILS to compile (with either attention) in codegen on the
  ``torch.aten.index_put`` from ``StaticLayer.update``'s ``index_copy_``: ``error:
  'linalg.generic' op write affecting operations on global resources are restricted to workgroup
  distributed contexts.``, then ``error: 'func.func' op failed on workgroup distribution
  verification``. The llvm-cpu backend cannot compile a scatter whose destination is a plain
  copy (of an input cache).
- a measurement-only variant (not this module's code): the scatter destinations made computed
  values (``k_cache[i] + 0``) compiles and runs. With ``"eager"`` attention the largest absolute
  error is 1.9e-6 (logits up to 1.6, caches up to 5.1), 46-75 ms median. With ``sdpa`` it is 0.107,
  the scale bug above. The tolerances below are about 10x the eager errors, far below the scale
  bug's.
"""

from __future__ import annotations

from typing import Dict, Tuple

import torch
from torch import nn

try:  # imported as ``models.whisper_tiny__transformers`` (scripts/ on sys.path) or top-level
    from .api import ModelSpec, exactly, to_float32
except ImportError:  # pragma: no cover
    from api import ModelSpec, exactly, to_float32  # type: ignore[no-redef]

REQUIREMENTS = ("transformers==5.23.0",)
FUNCTIONS = ("encoder", "decoder_step")

PARAMETERS = 37_760_640
ENCODER_PARAMETERS = 8_208_384  # of which 576,000 are the frozen sinusoidal embed_positions
DECODER_PARAMETERS = 29_552_256  # proj_out is tied to embed_tokens: counted once
ENCODER_POSITION_PARAMETERS = 1500 * 384

# openai/whisper-tiny's config.json, as a WhisperConfig
D_MODEL = 384
ENCODER_LAYERS = 4
DECODER_LAYERS = 4
NUM_HEADS = 6
HEAD_DIM = D_MODEL // NUM_HEADS  # 64
FFN_DIM = 1536
VOCAB_SIZE = 51865
NUM_MEL_BINS = 80
MAX_SOURCE_POSITIONS = 1500
MAX_TARGET_POSITIONS = 448

N_FRAMES = 2 * MAX_SOURCE_POSITIONS  # 3000 mel frames = 30 s
MEL_SHAPE = (1, NUM_MEL_BINS, N_FRAMES)
MAX_CACHE_LEN = MAX_TARGET_POSITIONS
# (decoder layers, batch, heads, max_cache_len, head_dim): StaticLayer.keys of every layer, stacked
CACHE_SHAPE = (DECODER_LAYERS, 1, NUM_HEADS, MAX_CACHE_LEN, HEAD_DIM)

# multilingual tokenizer special tokens
SOT, EN, TRANSCRIBE, NO_TIMESTAMPS, EOT = 50258, 50259, 50359, 50363, 50257
PROMPT = (SOT, EN, TRANSCRIBE)
EXAMPLE_TOKEN = NO_TIMESTAMPS
EXAMPLE_POSITION = len(PROMPT)  # 3

# transformers' default attention for this model; "eager" is the library's other built-in choice
ATTN_IMPLEMENTATION = "sdpa"


def make_config(attn_implementation: str = ATTN_IMPLEMENTATION):
    """openai/whisper-tiny's hyperparameters as a transformers ``WhisperConfig``."""
    from transformers import WhisperConfig

    return WhisperConfig(
        vocab_size=VOCAB_SIZE,
        num_mel_bins=NUM_MEL_BINS,
        d_model=D_MODEL,
        encoder_layers=ENCODER_LAYERS,
        decoder_layers=DECODER_LAYERS,
        encoder_attention_heads=NUM_HEADS,
        decoder_attention_heads=NUM_HEADS,
        encoder_ffn_dim=FFN_DIM,
        decoder_ffn_dim=FFN_DIM,
        max_source_positions=MAX_SOURCE_POSITIONS,
        max_target_positions=MAX_TARGET_POSITIONS,
        pad_token_id=EOT,
        bos_token_id=EOT,
        eos_token_id=EOT,
        decoder_start_token_id=SOT,
        attn_implementation=attn_implementation,
    )


class Encoder(nn.Module):
    """The ``encoder`` function: log-mel (1, 80, 3000) -> ``last_hidden_state`` (1, 1500, 384)."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, input_features: torch.Tensor) -> torch.Tensor:
        return self.encoder(input_features).last_hidden_state


class DecoderStep(nn.Module):
    """The ``decoder_step`` function: one token through ``WhisperDecoder`` with a static KV cache.

    Built like transformers' ``Seq2SeqLMDecoderExportableModuleWithStaticCache``: an
    ``EncoderDecoderCache`` of an early-initialised ``StaticCache`` (self-attention) and an empty
    ``DynamicCache`` (cross-attention, filled from ``encoder_hidden_states`` in this call), the
    decoder, then the output projection. Unlike the recipe, whose caches are module buffers
    mutated in place, the self-attention cache comes in and goes out as plain tensors.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.decoder = model.get_decoder()
        self.proj_out = model.get_output_embeddings()

    def forward(
        self,
        input_ids: torch.Tensor,
        cache_position: torch.Tensor,
        k_cache: torch.Tensor,
        v_cache: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        from transformers import DynamicCache, EncoderDecoderCache, StaticCache

        config = self.decoder.config
        self_attention = StaticCache(config=config, max_cache_len=MAX_CACHE_LEN)
        self_attention.early_initialization(1, NUM_HEADS, HEAD_DIM, k_cache.dtype, torch.device("cpu"))
        for i, layer in enumerate(self_attention.layers):
            layer.keys.copy_(k_cache[i])
            layer.values.copy_(v_cache[i])
            layer.cumulative_length.copy_(cache_position[0])  # as the recipe does with cache_position
        cache = EncoderDecoderCache(self_attention, DynamicCache(config=config))
        out = self.decoder(
            input_ids=input_ids,
            encoder_hidden_states=encoder_hidden_states,
            past_key_values=cache,
            use_cache=True,
        )
        logits = self.proj_out(out.last_hidden_state)
        keys = torch.stack([layer.keys for layer in self_attention.layers])
        values = torch.stack([layer.values for layer in self_attention.layers])
        return logits, keys, values


@torch.no_grad()
def _perturb_norms(model: nn.Module) -> None:
    """Every LayerNorm's weight from U(0.5, 1.5) and bias from N(0, 0.1^2) (transformers' init: 1, 0)."""
    for module in model.modules():
        if isinstance(module, nn.LayerNorm):
            module.weight.uniform_(0.5, 1.5)
            module.bias.normal_(0.0, 0.1)


def _new_model(attn_implementation: str) -> nn.Module:
    from transformers import WhisperForConditionalGeneration

    model = WhisperForConditionalGeneration(make_config(attn_implementation))
    _perturb_norms(model)
    return model.eval()


def build_model(seed: int = 0, attn_implementation: str = ATTN_IMPLEMENTATION) -> nn.Module:
    """``WhisperForConditionalGeneration`` with the tiny config, weights drawn from ``seed``."""
    with exactly(seed):
        model = _new_model(attn_implementation)
    return to_float32(model)


def build(seed: int = 0, attn_implementation: str = ATTN_IMPLEMENTATION) -> Dict[str, ModelSpec]:
    """{"encoder", "decoder_step"} with weights and example inputs from ``seed``."""
    with exactly(seed):  # the weights, the encoder's features and the prompt's caches from the seed alone
        model = _new_model(attn_implementation)
        encoder = Encoder(model.get_encoder()).eval()
        step = DecoderStep(model).eval()
        with exactly(seed + 1):
            mel = torch.rand(MEL_SHAPE) * 2.0 - 1.0
            k_cache = torch.randn(CACHE_SHAPE)
            v_cache = torch.randn(CACHE_SHAPE)
        with torch.no_grad():
            audio = encoder(mel)
            for pos, token in enumerate(PROMPT):
                _, k_cache, v_cache = step(
                    torch.tensor([[token]]), torch.tensor([pos]), k_cache, v_cache, audio
                )
    to_float32(encoder)
    to_float32(step)
    mel, k_cache, v_cache, audio = to_float32((mel, k_cache, v_cache, audio))
    token = torch.tensor([[EXAMPLE_TOKEN]], dtype=torch.int64)
    position = torch.tensor([EXAMPLE_POSITION], dtype=torch.int64)
    return {
        "encoder": ModelSpec(
            module=encoder,
            inputs=(mel,),
            atol=4e-5,  # about 10x the largest error measured with IREE 3.9 (eager attention)
            rtol=1e-5,
            description=(
                "transformers WhisperForConditionalGeneration (whisper-tiny config) encoder, "
                "log-mel (1, 80, 3000) -> (1, 1500, 384)"
            ),
        ),
        "decoder_step": ModelSpec(
            module=step,
            inputs=(token, position, k_cache, v_cache, audio),
            atol=2e-5,  # about 10x the largest error measured with IREE 3.9 (eager attention)
            rtol=1e-5,
            description=(
                "transformers WhisperDecoder (whisper-tiny config), one step with an "
                f"EncoderDecoderCache(StaticCache {CACHE_SHAPE}, DynamicCache) "
                "-> logits (1, 1, 51865) and updated caches"
            ),
        ),
    }
