"""A small GPT-2 as Hugging Face transformers builds and runs it: ``GPT2LMHeadModel`` with a KV
cache, a prefill and one decode step, named ``gpt2_tiny@transformers``.

Source: transformers 5.23.0, ``models/gpt2/modeling_gpt2.py`` (``GPT2LMHeadModel``,
``GPT2Model``, ``GPT2Attention``) and ``cache_utils.py`` (``DynamicCache``, ``DynamicLayer``,
``StaticCache``); architecture: A. Radford et al., "Language Models are Unsupervised Multitask
Learners", 2019 (GPT-2: pre-LayerNorm blocks, learned positions, GELU-tanh MLP, ``lm_head`` tied to
``wte``); config: GPT-2's own vocabulary (50257 tokens) at BERT-tiny's width and depth (2 layers,
hidden 128, 2 heads of 64, MLP 512, 128 positions) as a ``GPT2Config``, small so that its export
and compile stay fast. No weights are downloaded.

Functions (``build()`` returns both, each exported as its own "main"); every transformers call is
the library's own code, the wrappers only move tensors in and out of a cache:

``prefill``: ``input_ids`` (1, 16) int64 -> logits of the last position (1, 1, 50257)
(``logits_to_keep=1``) and the caches ``k_cache``, ``v_cache`` (2, 1, 2, 16, 64) = (layers, batch,
heads, positions, head_dim): every cache layer's ``keys`` / ``values``, stacked.

``decode``: ``input_ids`` (1, 1) int64 and ``k_cache``, ``v_cache`` (2, 1, 2, 16, 64) -> logits
(1, 1, 50257) and the caches grown by the new position, (2, 1, 2, 17, 64). The caches go in as a
``DynamicCache(ddp_cache_data=...)`` (transformers' default cache for GPT-2 and what ``generate``
uses): ``DynamicLayer.update`` concatenates the new key and value, the model takes the position
(16) from the cache's length. This is the "caches as inputs and outputs" recipe: nothing is written
in place, so there is no scatter into a buffer; each cache length is its own fixed-shape function
(a deployment exports the lengths it needs, or a dynamic dimension).

Composition (the generate loop is Python and not exported)::

    logits, k, v = prefill(prompt)                    # prompt: 16 tokens
    logits, k, v = decode(argmax(logits)[None, None], k, v)   # position 16; k, v now 17 long

Decoding at position 16 gives the last-position logits of the full (uncached) forward over tokens
0..16; the unit tests check this.

Parameters: 6,846,080 = ``wte`` 6,432,896 (tied: ``lm_head`` is ``wte``, counted once) + ``wpe``
16,384 + 2 x 198,272 + final LayerNorm 256. Both functions share them. Weights: transformers' own
initialisation (``_init_weights``: linear, Conv1D and embedding weights from N(0, 0.02^2), each
block's output projections from N(0, (0.02 / sqrt(2 x 2))^2)), drawn from ``seed``, then every
LayerNorm's weight from U(0.5, 1.5) and bias from N(0, 0.1^2), so that none is the identity; all made
in float64 inside ``api.exactly`` and rounded to float32 once (the same bytes on every CPU and thread
count). Inputs (from ``seed + 1``): 16 prompt tokens and a 17th token uniform over the vocabulary;
``decode``'s caches are ``prefill``'s output on the prompt.

Parameterised for export-recipe searches (issue #50):
``build(seed, attn_implementation, cache_implementation)``:

- ``attn_implementation``: ``"sdpa"`` (transformers' default, ``ATTN_IMPLEMENTATION``) or
  ``"eager"`` (the library's ``eager_attention_forward``). ``GPT2Attention`` passes
  ``scaling=head_dim ** -0.5``; with ``sdpa`` that is ``scaled_dot_product_attention(...,
  scale=0.125)``.
- ``cache_implementation``: ``"dynamic"`` (the default, ``CACHE_IMPLEMENTATION``; above) or
  ``"static"``: llama@transformers' recipe, a ``StaticCache`` of ``MAX_CACHE_LEN`` = 128 rows,
  early-initialised, the caches (2, 1, 2, 128, 64) copied in and out, ``decode`` taking a
  ``cache_position`` (1,) int64 input after ``input_ids`` and ``StaticLayer.update`` writing the
  row with ``index_copy_``.

``build_model(seed, attn_implementation)`` returns the bare ``GPT2LMHeadModel``.
"""

from __future__ import annotations

from typing import Dict, Tuple

import torch
from torch import nn

try:  # imported as ``models.gpt2_tiny__transformers`` (scripts/ on sys.path) or top-level
    from .api import ModelSpec, exactly, to_float32
except ImportError:  # pragma: no cover
    from api import ModelSpec, exactly, to_float32  # type: ignore[no-redef]

REQUIREMENTS = ("transformers==5.23.0",)
FUNCTIONS = ("prefill", "decode")

PARAMETERS = 6_846_080

VOCAB_SIZE = 50257
N_EMBD = 128
N_LAYER = 2
N_HEAD = 2
HEAD_DIM = N_EMBD // N_HEAD  # 64
N_INNER = 4 * N_EMBD  # GPT-2's MLP width (n_inner=None)
N_POSITIONS = 128

PROMPT_LEN = 16
MAX_CACHE_LEN = N_POSITIONS  # the "static" variant's rows

# transformers' default attention for this model; "eager" is the library's other built-in choice
ATTN_IMPLEMENTATION = "sdpa"
# "dynamic": caches in and out, grown by concatenation; "static": llama@transformers' StaticCache
CACHE_IMPLEMENTATION = "dynamic"
CACHE_IMPLEMENTATIONS = ("dynamic", "static")


def make_config(attn_implementation: str = ATTN_IMPLEMENTATION):
    """The small GPT-2's hyperparameters as a transformers ``GPT2Config``."""
    from transformers import GPT2Config

    return GPT2Config(
        vocab_size=VOCAB_SIZE,
        n_positions=N_POSITIONS,
        n_embd=N_EMBD,
        n_layer=N_LAYER,
        n_head=N_HEAD,
        attn_implementation=attn_implementation,
    )


def _stacked(cache) -> Tuple[torch.Tensor, torch.Tensor]:
    return (
        torch.stack([layer.keys for layer in cache.layers]),
        torch.stack([layer.values for layer in cache.layers]),
    )


def _static_cache(config, dtype: torch.dtype):
    """An empty, early-initialised ``StaticCache`` (batch 1, ``MAX_CACHE_LEN`` rows), as
    transformers' export recipe makes it (lazy allocation in the first ``update`` is not exportable)."""
    from transformers import StaticCache

    cache = StaticCache(config=config, max_cache_len=MAX_CACHE_LEN)
    cache.early_initialization(1, N_HEAD, HEAD_DIM, dtype, torch.device("cpu"))
    return cache


class Prefill(nn.Module):
    """``prefill``: ``input_ids`` (1, 16) -> last-position logits and the caches."""

    def __init__(self, model: nn.Module, cache_implementation: str = CACHE_IMPLEMENTATION) -> None:
        super().__init__()
        self.model = model
        self.cache_implementation = cache_implementation

    def forward(self, input_ids: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        from transformers import DynamicCache

        if self.cache_implementation == "static":
            cache = _static_cache(self.model.config, self.model.dtype)
        else:
            cache = DynamicCache(config=self.model.config)
        out = self.model(input_ids=input_ids, past_key_values=cache, use_cache=True, logits_to_keep=1)
        keys, values = _stacked(cache)
        return out.logits, keys, values


class Decode(nn.Module):
    """``decode``: one token with the caches of the positions before it (``DynamicCache``)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, input_ids: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        from transformers import DynamicCache

        cache = DynamicCache(ddp_cache_data=[(k_cache[i], v_cache[i]) for i in range(N_LAYER)])
        out = self.model(input_ids=input_ids, past_key_values=cache, use_cache=True)
        keys, values = _stacked(cache)
        return out.logits, keys, values


class StaticDecode(nn.Module):
    """``decode`` of the ``"static"`` variant: one token at ``cache_position`` with a ``StaticCache``."""

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
        cache = _static_cache(self.model.config, self.model.dtype)
        for i, layer in enumerate(cache.layers):
            layer.keys.copy_(k_cache[i])
            layer.values.copy_(v_cache[i])
            layer.cumulative_length.copy_(cache_position[0])  # what the export recipe does
        out = self.model(input_ids=input_ids, past_key_values=cache, use_cache=True)
        keys, values = _stacked(cache)
        return out.logits, keys, values


@torch.no_grad()
def _perturb_norms(model: nn.Module) -> None:
    """Every LayerNorm's weight from U(0.5, 1.5) and bias from N(0, 0.1^2) (transformers' init: 1, 0)."""
    for module in model.modules():
        if isinstance(module, nn.LayerNorm):
            module.weight.uniform_(0.5, 1.5)
            module.bias.normal_(0.0, 0.1)


def _new_model(attn_implementation: str) -> nn.Module:
    from transformers import GPT2LMHeadModel

    model = GPT2LMHeadModel(make_config(attn_implementation))
    _perturb_norms(model)
    return model.eval()


def build_model(seed: int = 0, attn_implementation: str = ATTN_IMPLEMENTATION) -> nn.Module:
    """``GPT2LMHeadModel`` with the small config, weights drawn from ``seed``, in eval mode."""
    with exactly(seed):
        model = _new_model(attn_implementation)
    return to_float32(model)


def build(
    seed: int = 0,
    attn_implementation: str = ATTN_IMPLEMENTATION,
    cache_implementation: str = CACHE_IMPLEMENTATION,
) -> Dict[str, ModelSpec]:
    """{"prefill", "decode"} with weights and example inputs from ``seed``."""
    if cache_implementation not in CACHE_IMPLEMENTATIONS:
        raise ValueError(
            f"gpt2_tiny@transformers: cache_implementation {cache_implementation!r} is not one of "
            f"{', '.join(CACHE_IMPLEMENTATIONS)}"
        )
    static = cache_implementation == "static"
    with exactly(seed):  # the weights, and the caches the prompt fills, from the seed alone
        model = _new_model(attn_implementation)
        with exactly(seed + 1):
            prompt = torch.randint(0, VOCAB_SIZE, (1, PROMPT_LEN), dtype=torch.int64)
            token = torch.randint(0, VOCAB_SIZE, (1, 1), dtype=torch.int64)
        prefill = Prefill(model, cache_implementation).eval()
        decode: nn.Module = (StaticDecode(model) if static else Decode(model)).eval()
        with torch.no_grad():
            _, k_cache, v_cache = prefill(prompt)
    to_float32(prefill)
    to_float32(decode)
    k_cache, v_cache = to_float32((k_cache, v_cache))
    position = torch.tensor([PROMPT_LEN], dtype=torch.int64)
    decode_inputs = (token, position, k_cache, v_cache) if static else (token, k_cache, v_cache)
    rows = MAX_CACHE_LEN if static else PROMPT_LEN
    shape = (N_LAYER, 1, N_HEAD, rows, HEAD_DIM)
    return {
        "prefill": ModelSpec(
            module=prefill,
            inputs=(prompt,),
            atol=1e-4,
            rtol=1e-4,
            description=(
                f"transformers GPT2LMHeadModel (2 layers, hidden 128), prefill of {PROMPT_LEN} tokens "
                f"-> last logits (1, 1, {VOCAB_SIZE}) and {cache_implementation} caches {shape}"
            ),
        ),
        "decode": ModelSpec(
            module=decode,
            inputs=decode_inputs,
            atol=1e-4,
            rtol=1e-4,
            description=(
                f"transformers GPT2LMHeadModel (2 layers, hidden 128), one token with "
                f"{cache_implementation} caches {shape} -> logits (1, 1, {VOCAB_SIZE}) and updated caches"
            ),
        ),
    }
