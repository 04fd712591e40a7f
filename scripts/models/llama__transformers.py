"""A small Llama 2 (llama2.c's stories15M config) as Hugging Face transformers builds and runs it:
``LlamaForCausalLM`` with transformers' own ``StaticCache``; a prefill and one decode step.

The upstream variant of ``llama_stories15m`` (plain torch), named ``llama@transformers``.
Source: transformers 5.23.0, ``models/llama/modeling_llama.py`` (``LlamaForCausalLM``),
``cache_utils.py`` (``StaticCache``, ``StaticLayer``), ``masking_utils.py`` (``create_causal_mask``)
and the export recipe ``integrations/executorch.py`` (``TorchExportableModuleWithStaticCache``);
architecture: H. Touvron et al., "Llama 2", 2023, arXiv:2307.09288; config: llama2.c's stories15M
``ModelArgs`` (dim 288, n_layers 6, n_heads 6, n_kv_heads 6, vocab 32000, hidden 768, max_seq_len
256, norm_eps 1e-5) as a ``LlamaConfig`` with ``tie_word_embeddings=True``, rope theta 10000.
transformers' rotary embedding rotates the two halves of each head (``rotate_half``) where
llama2.c rotates interleaved pairs (its checkpoints are permuted on conversion); with random
weights this changes nothing measured here. No weights are downloaded.

Functions (``build()`` returns both, each exported as its own "main"); every transformers call is
the library's own code, the wrappers only move tensors in and out of a ``StaticCache``:

``prefill``: ``input_ids`` (1, 32) int64 -> logits of the last position (1, 1, 32000)
(``logits_to_keep=1``) and the filled caches ``k_cache``, ``v_cache`` (6, 1, 6, 256, 48) =
(layers, batch, kv heads, max_cache_len, head_dim) -- every ``StaticLayer``'s ``keys`` /
``values``, stacked: rows 0..31 hold the prompt's (rotary-embedded) keys and values, the rest 0.
A fresh ``StaticCache(config, max_cache_len=256)`` is made and ``early_initialization``-ed (as
the recipe does; lazy allocation in the first ``update`` is not exportable).

``decode``: ``input_ids`` (1, 1) int64, ``cache_position`` (1,) int64, ``k_cache``, ``v_cache``
-> logits (1, 1, 32000) and the caches with row ``cache_position`` written. The caches are
copied into a fresh early-initialised ``StaticCache`` and each layer's ``cumulative_length`` is
set to ``cache_position`` (what the recipe does with its ``cache_position``); the model then
derives positions and the causal mask from the cache, and ``StaticLayer.update`` writes the new
row with ``index_copy_``. The interface is the recipe's, with the caches passed in and returned
as plain tensors instead of module buffers mutated in place.

Composition (the generate loop is Python and not exported)::

    logits, k, v = prefill(prompt)                    # prompt: 32 tokens
    for pos in range(32, 256):
        logits, k, v = decode(argmax(logits)[None, None], tensor([pos]), k, v)

Decoding at position p gives the last-position logits of the full (uncached) forward over tokens
0..p; the unit tests check this.

Parameters: 15,191,712 (llama2.c's stories15M, "15M") = embedding 9,216,000 (tied: ``lm_head``
is ``embed_tokens``, counted once) + 6 x 995,904 + final norm 288. Both functions share them.
Weights: transformers' own initialisation (``_init_weights``: linear layers and the embedding
from N(0, 0.02^2)), drawn from ``seed``, then every RMSNorm weight from U(0.5, 1.5) so that none
is the identity. Inputs: 32 prompt tokens and a 33rd token drawn uniformly from the vocabulary
(from ``seed + 1``); ``decode``'s caches are ``prefill``'s output on them, at position 32.
Everything is made in float64 inside ``api.exactly`` and rounded to float32 once, so it is the
same on every CPU and thread count: the RoPE table by the library's formula in float64, and the
example caches with the rotary cos/sin in float64 (the library computes both in float32, whose
last bits differ between ATen's AVX2 and AVX-512 kernels); the exported forward is the library's.

Attention: transformers' default, ``sdpa`` (``ATTN_IMPLEMENTATION``); ``build(seed, "eager")``
selects the library's ``eager_attention_forward`` instead (same function in torch, checked by the
unit tests).

Measured with torch 2.13.0 (CPU), iree-turbine 3.9.0 and IREE 3.9.0 (``iree-compile
--iree-hal-target-backends=llvm-cpu --iree-llvmcpu-target-cpu=host``, x86-64 znver4):

- export (``aot.export``, strict ``torch.export``): both functions succeed (7-16 s).
- compile: both FAIL, 0.5 s in: ``error: failed to legalize operation
  'torch.aten.scaled_dot_product_attention' that was explicitly marked illegal``.
  ``sdpa_attention_forward`` always passes ``scale=`` (here 48 ** -0.5) and IREE 3.9's torch
  lowering only accepts ``scale`` None or 1.0.
- with ``"eager"`` attention both compile and FAIL in codegen (10-12 s in) on the
  ``torch.aten.index_put`` from ``StaticLayer.update``'s ``index_copy_``: prefill ``error:
  'linalg.fill' op write affecting operations on global resources are restricted to workgroup
  distributed contexts.``, decode the same for ``'linalg.generic'``, then ``error: 'func.func' op
  failed on workgroup distribution verification``. The llvm-cpu backend cannot compile a scatter
  whose destination is a fill (the zero cache) or a plain copy (of an input cache).
- a measurement-only variant (not this module's code): ``"eager"`` attention, and the scatter
  destinations made computed values (``k_cache[i] + 0``; for prefill zeros plus 0 times an
  input-dependent scalar, since ``zeros + 0`` folds back into a fill) compiles and runs. Its
  largest absolute errors against torch are 1.7e-6 (prefill, logits up to 1.6) and 1.2e-6
  (decode). The tolerances below are about 10x those. ``iree-benchmark-module`` medians (3
  repetitions, 2 cores shared with other work, so two runs differed up to 2x): prefill 19-37 ms,
  decode 13-19 ms.
"""

from __future__ import annotations

import contextlib
from typing import Dict, Iterator, Tuple

import torch
from torch import nn

try:  # imported as ``models.llama__transformers`` (scripts/ on sys.path) or as a top-level module
    from .api import ModelSpec, exactly, to_float32
except ImportError:  # pragma: no cover
    from api import ModelSpec, exactly, to_float32  # type: ignore[no-redef]

REQUIREMENTS = ("transformers==5.23.0",)
FUNCTIONS = ("prefill", "decode")

PARAMETERS = 15_191_712

# llama2.c's stories15M ``ModelArgs`` as a ``LlamaConfig``
HIDDEN_SIZE = 288
INTERMEDIATE_SIZE = 768
NUM_LAYERS = 6
NUM_HEADS = 6
NUM_KV_HEADS = 6
HEAD_DIM = HIDDEN_SIZE // NUM_HEADS  # 48
VOCAB_SIZE = 32000
MAX_POSITIONS = 256
RMS_NORM_EPS = 1e-5

PROMPT_LEN = 32
MAX_CACHE_LEN = MAX_POSITIONS
# (layers, batch, kv heads, max_cache_len, head_dim): StaticLayer.keys of every layer, stacked
CACHE_SHAPE = (NUM_LAYERS, 1, NUM_KV_HEADS, MAX_CACHE_LEN, HEAD_DIM)

# transformers' default attention for this model; "eager" is the library's other built-in choice
ATTN_IMPLEMENTATION = "sdpa"


def make_config(attn_implementation: str = ATTN_IMPLEMENTATION):
    """The stories15M hyperparameters as a transformers ``LlamaConfig``."""
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=VOCAB_SIZE,
        hidden_size=HIDDEN_SIZE,
        intermediate_size=INTERMEDIATE_SIZE,
        num_hidden_layers=NUM_LAYERS,
        num_attention_heads=NUM_HEADS,
        num_key_value_heads=NUM_KV_HEADS,
        max_position_embeddings=MAX_POSITIONS,
        rms_norm_eps=RMS_NORM_EPS,
        tie_word_embeddings=True,
        attn_implementation=attn_implementation,
    )


def new_static_cache(config, dtype: torch.dtype = torch.float32):
    """An empty, early-initialised ``transformers.StaticCache`` (batch 1, ``MAX_CACHE_LEN`` rows).

    ``early_initialization`` allocates every layer's zero ``keys``/``values`` up front, as
    transformers' own export recipe (``TorchExportableModuleWithStaticCache``) does; lazily
    allocating them in the first ``update`` is not exportable.
    """
    from transformers import StaticCache

    cache = StaticCache(config=config, max_cache_len=MAX_CACHE_LEN)
    cache.early_initialization(1, NUM_KV_HEADS, HEAD_DIM, dtype, torch.device("cpu"))
    return cache


def _stacked(cache) -> Tuple[torch.Tensor, torch.Tensor]:
    return (
        torch.stack([layer.keys for layer in cache.layers]),
        torch.stack([layer.values for layer in cache.layers]),
    )


class Prefill(nn.Module):
    """The ``prefill`` function: ``input_ids`` (1, 32) -> last-position logits and the filled caches."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        cache = new_static_cache(self.model.config, self.model.dtype)  # float64 in api.exactly
        out = self.model(input_ids=input_ids, past_key_values=cache, use_cache=True, logits_to_keep=1)
        keys, values = _stacked(cache)
        return out.logits, keys, values


class Decode(nn.Module):
    """The ``decode`` function: one token at ``cache_position`` with the static cache."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        cache_position: torch.Tensor,
        k_cache: torch.Tensor,
        v_cache: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        cache = new_static_cache(self.model.config, self.model.dtype)
        for i, layer in enumerate(cache.layers):
            layer.keys.copy_(k_cache[i])
            layer.values.copy_(v_cache[i])
            # what the export recipe does with its cache_position: the layer's fill level
            layer.cumulative_length.copy_(cache_position[0])
        out = self.model(input_ids=input_ids, past_key_values=cache, use_cache=True)
        keys, values = _stacked(cache)
        return out.logits, keys, values


@torch.no_grad()
def _perturb_norms(model: nn.Module) -> None:
    """Every RMSNorm weight from U(0.5, 1.5), so that none is the identity (transformers' init: 1)."""
    for module in model.modules():
        if type(module).__name__.endswith("RMSNorm"):
            module.weight.uniform_(0.5, 1.5)


def _new_model(attn_implementation: str) -> nn.Module:
    from transformers import LlamaForCausalLM

    model = LlamaForCausalLM(make_config(attn_implementation))
    _perturb_norms(model)
    _exact_rope_table(model)
    return model.eval()


def _exact_rope_table(model: nn.Module) -> None:
    """The RoPE frequencies by transformers' formula (``compute_default_rope_parameters``), in the
    default dtype (float64 inside ``api.exactly``) instead of the float32 it names: float32
    ``base ** x`` is vectorised differently by ATen's AVX2 and AVX-512 kernels, and one of the 24
    frequencies differed by one float32 ulp between ``ATEN_CPU_CAPABILITY=avx2`` and the AVX-512
    default. They are non-persistent buffers, so constants of the exported MLIR."""
    rope = model.model.rotary_emb
    theta = model.config.rope_parameters["rope_theta"]
    exponents = torch.arange(0, HEAD_DIM, 2, dtype=torch.int64).to(torch.get_default_dtype()) / HEAD_DIM
    inv_freq = 1.0 / (theta**exponents)
    rope.inv_freq = inv_freq
    rope.original_inv_freq = inv_freq.clone()


@contextlib.contextmanager
def _float64_rope(model: nn.Module) -> Iterator[None]:
    """While the build's prefill fills the example caches inside ``api.exactly``: the rotary
    embedding's cos and sin in float64. transformers' ``LlamaRotaryEmbedding.forward`` computes them
    in float32 whatever its input's dtype, with vectorised cos/sin whose last bits differ between
    CPUs. Afterwards the library's own forward is back (it is what gets exported)."""
    rope = model.model.rotary_emb

    def forward(x: torch.Tensor, position_ids: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        freqs = position_ids[..., None].to(torch.float64) * rope.inv_freq.to(torch.float64)
        emb = torch.cat((freqs, freqs), dim=-1)
        return (emb.cos() * rope.attention_scaling).to(x.dtype), (emb.sin() * rope.attention_scaling).to(
            x.dtype
        )

    rope.forward = forward
    try:
        yield
    finally:
        del rope.forward


def build_model(seed: int = 0, attn_implementation: str = ATTN_IMPLEMENTATION) -> nn.Module:
    """``LlamaForCausalLM`` with the stories15M config, weights drawn from ``seed``, in eval mode."""
    with exactly(seed):
        model = _new_model(attn_implementation)
    return to_float32(model)


def build(seed: int = 0, attn_implementation: str = ATTN_IMPLEMENTATION) -> Dict[str, ModelSpec]:
    """{"prefill", "decode"} with weights and example inputs from ``seed``."""
    with exactly(seed):  # the weights, and the caches the prompt fills, from the seed alone
        model = _new_model(attn_implementation)
        with exactly(seed + 1):
            prompt = torch.randint(0, VOCAB_SIZE, (1, PROMPT_LEN), dtype=torch.int64)
            token = torch.randint(0, VOCAB_SIZE, (1, 1), dtype=torch.int64)
        prefill = Prefill(model).eval()
        decode = Decode(model).eval()
        with torch.no_grad(), _float64_rope(model):
            _, k_cache, v_cache = prefill(prompt)
    to_float32(prefill)
    to_float32(decode)
    k_cache, v_cache = to_float32((k_cache, v_cache))
    position = torch.tensor([PROMPT_LEN], dtype=torch.int64)
    return {
        "prefill": ModelSpec(
            module=prefill,
            inputs=(prompt,),
            atol=2e-5,  # about 10x the largest error measured with IREE 3.9 (see the docstring)
            rtol=1e-5,
            description=(
                "transformers LlamaForCausalLM (stories15M config), prefill of 32 tokens into a "
                f"StaticCache -> last logits (1, 1, 32000) and caches {CACHE_SHAPE}"
            ),
        ),
        "decode": ModelSpec(
            module=decode,
            inputs=(token, position, k_cache, v_cache),
            atol=2e-5,  # about 10x the largest error measured with IREE 3.9 (see the docstring)
            rtol=1e-5,
            description=(
                "transformers LlamaForCausalLM (stories15M config), one token with a StaticCache "
                f"{CACHE_SHAPE} -> logits (1, 1, 32000) and updated caches"
            ),
        ),
    }
