"""A small Llama 2 (llama2.c's stories15M): a prefill function and one static-KV-cache decode step.

Source: H. Touvron et al., "Llama 2: Open Foundation and Fine-Tuned Chat Models", 2023,
arXiv:2307.09288, in the form of Andrej Karpathy's llama2.c (``model.py``: ``ModelArgs``,
``RMSNorm``, ``precompute_freqs_cis``, ``apply_rotary_emb``, ``Attention``, ``FeedForward``,
``TransformerBlock``, ``Transformer``) with the stories15M config: dim 288, n_layers 6, n_heads
6, n_kv_heads 6, vocab_size 32000, multiple_of 32, max_seq_len 256, norm_eps 1e-5, dropout 0.
Written here in plain torch; module names mirror llama2.c's (``tok_embeddings``,
``layers.N.attention.wq``, ``layers.N.feed_forward.w1``, ``layers.N.attention_norm``, ``norm``,
``output``): the state dict of :class:`Transformer` and of each function is exactly a llama2.c
checkpoint's ``model`` entry (both names of the tied weight included), so it loads with
``strict=True``.

Architecture: token embedding (32000 x 288); 6 pre-norm blocks, each RMSNorm -> multi-head
attention (6 heads of 48, no biases, rotary position embedding on q and k with theta 10000 in
llama2.c's interleaved-pair layout, causal) -> residual, RMSNorm -> SwiGLU feed-forward
``w2(silu(w1 x) * w3 x)`` with hidden size 768 (``multiple_of * ceil(int(2 * 4 * 288 / 3) /
multiple_of)``) -> residual; final RMSNorm; output projection to 32000 logits. As in llama2.c,
the output projection shares its weight with the token embedding (``self.tok_embeddings.weight
= self.output.weight``: weight tying), so it is one parameter. Attention uses
``F.scaled_dot_product_attention``, which llama2.c uses whenever torch has it (its "flash"
path; the manual path computes the same softmax(q k^T / sqrt(48)) v). Checked against Hugging
Face transformers' ``LlamaForCausalLM`` (tied embeddings, wq/wk permuted as llama2.c's
``export.py`` does for it): same 15,191,712 parameters, logits equal within 1e-6.

Functions (``build()`` returns both, each exported as its own "main"), static shapes only:

``prefill``: ``tokens`` (1, 32) int64 -> logits of the last position (1, 1, 32000) (llama2.c's
inference-time ``forward`` returns ``output(h[:, [-1], :])`` too), and the key and value caches
``k_cache``, ``v_cache`` of shape (6, 1, 256, 6, 48) = (n_layers, batch, max_seq_len,
n_kv_heads, head_dim) with rows 0..31 holding the rotary-embedded keys and the values of the
prompt and rows 32..255 zero.

``decode``: ``token`` (1, 1) int64, ``position`` (1,) int64 (< 256), ``k_cache``, ``v_cache``
-> logits (1, 1, 32000) and the caches with row ``position`` written (layer i's by a one-row
``index_put`` at ``[i, 0, position]`` -- llama2.c's Python has no KV cache; its ``run.c`` writes
``key_cache[l][pos]`` the same way, and Meta's llama ``cache_k[:, start_pos] = xk`` is the
in-place form); attention adds -inf to the scores of cache rows after ``position`` through a
(1, 1, 1, 256) mask.

How they compose (the generate loop is Python control flow and is not exported)::

    logits, k, v = prefill(prompt[:, :32])
    for pos in range(32, 256):
        token = argmax(logits[0, -1])          # or sample
        logits, k, v = decode(token[None, None], pos, k, v)

Decoding at position p after a prefill of positions 0..31 (and decodes of 32..p-1) gives
exactly the last-position logits of the full causal forward over tokens 0..p
(:meth:`Transformer.forward`, llama2.c's); the unit tests check this.

Two formulations that IREE 3.9.0 (llvm-cpu) does not compile, avoided here on purpose: a write
into a slice of the cache argument, ``k_cache[i].index_copy(1, position, xk)``, fails with
"'linalg.generic' op write affecting operations on global resources are restricted to workgroup
distributed contexts"; ``scaled_dot_product_attention`` with a rank-2 or rank-3 mask fails in
its lowering ("'tensor.collapse_shape' op expected the expanded type ... to have a higher (or
same) rank than the collapsed type" / "'tm_tensor.attention' op query and mask batch dimension
mismatch"). The index_put into the stacked cache and a rank-4 mask compile.

Parameter count: 15,191,712 = embedding (tied with the output) 9,216,000 + 6 x 995,904 per
block (attention 4 x 288 x 288 = 331,776, feed-forward 3 x 288 x 768 = 663,552, two RMSNorms
576) + final RMSNorm 288 -- the "15M" of stories15M; counted with the tied weight once, as
``nn.Module.parameters()`` does. ``prefill`` and ``decode`` share all of them.

Weights: llama2.c's initialisation, drawn from ``seed``: every linear layer and the embedding
from N(0, 0.02^2), the residual projections (``w3`` and ``wo``) from N(0, (0.02 /
sqrt(2 * n_layers))^2); then every RMSNorm weight from U(0.5, 1.5) so that none is the identity.
Example inputs: ``prefill`` gets 32 tokens drawn uniformly from the vocabulary; ``decode`` gets
the caches that ``prefill`` returns for them, a 33rd token and position 32.
"""

from __future__ import annotations

import math
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

try:  # imported as ``models.llama_stories15m`` (scripts/ on sys.path) or as a top-level module
    from .api import ModelSpec, exactly, to_float32
except ImportError:  # pragma: no cover
    from api import ModelSpec, exactly, to_float32  # type: ignore[no-redef]

PARAMETERS = 15_191_712
FUNCTIONS = ("prefill", "decode")

DIM = 288
N_LAYERS = 6
N_HEADS = 6
N_KV_HEADS = 6
VOCAB_SIZE = 32000
MULTIPLE_OF = 32
MAX_SEQ_LEN = 256
NORM_EPS = 1e-5
ROPE_THETA = 10000.0
HEAD_DIM = DIM // N_HEADS  # 48
HIDDEN_DIM = MULTIPLE_OF * ((int(2 * 4 * DIM / 3) + MULTIPLE_OF - 1) // MULTIPLE_OF)  # 768

PREFILL_LEN = 32
CACHE_SHAPE = (N_LAYERS, 1, MAX_SEQ_LEN, N_KV_HEADS, HEAD_DIM)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def precompute_freqs_cis(dim: int, end: int, theta: float = ROPE_THETA) -> Tuple[torch.Tensor, torch.Tensor]:
    # in the default dtype (llama2.c: float32; float64 inside api.exactly, the same on every CPU)
    dtype = torch.get_default_dtype()
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 2)[: (dim // 2)].to(dtype) / dim))
    t = torch.arange(end, device=freqs.device)
    freqs = torch.outer(t, freqs).to(dtype)
    return torch.cos(freqs), torch.sin(freqs)


def apply_rotary_emb(x: torch.Tensor, freqs_cos: torch.Tensor, freqs_sin: torch.Tensor) -> torch.Tensor:
    """Rotate (B, T, H, D) by position; ``freqs_*`` are (T, D / 2). Pairs are (2i, 2i + 1)."""
    x_r, x_i = x.reshape(x.shape[:-1] + (-1, 2)).unbind(-1)
    cos = freqs_cos.view(1, x.shape[1], 1, x_r.shape[-1])
    sin = freqs_sin.view(1, x.shape[1], 1, x_r.shape[-1])
    out_r = x_r * cos - x_i * sin
    out_i = x_r * sin + x_i * cos
    return torch.stack([out_r, out_i], dim=-1).flatten(3)


def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """(B, T, H_kv, D) -> (B, T, H_kv * n_rep, D); the identity for stories15M (n_rep 1)."""
    bs, slen, n_kv_heads, head_dim = x.shape
    if n_rep == 1:
        return x
    return x[:, :, :, None, :].expand(bs, slen, n_kv_heads, n_rep, head_dim).reshape(bs, slen, -1, head_dim)


class Attention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.n_heads = N_HEADS
        self.n_kv_heads = N_KV_HEADS
        self.n_rep = N_HEADS // N_KV_HEADS
        self.head_dim = HEAD_DIM
        self.wq = nn.Linear(DIM, N_HEADS * HEAD_DIM, bias=False)
        self.wk = nn.Linear(DIM, N_KV_HEADS * HEAD_DIM, bias=False)
        self.wv = nn.Linear(DIM, N_KV_HEADS * HEAD_DIM, bias=False)
        self.wo = nn.Linear(N_HEADS * HEAD_DIM, DIM, bias=False)

    def qkv(
        self, x: torch.Tensor, freqs_cos: torch.Tensor, freqs_sin: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Rotary-embedded q, k and v, each (B, T, heads, head_dim)."""
        bsz, seqlen, _ = x.shape
        xq = self.wq(x).view(bsz, seqlen, self.n_heads, self.head_dim)
        xk = self.wk(x).view(bsz, seqlen, self.n_kv_heads, self.head_dim)
        xv = self.wv(x).view(bsz, seqlen, self.n_kv_heads, self.head_dim)
        return apply_rotary_emb(xq, freqs_cos, freqs_sin), apply_rotary_emb(xk, freqs_cos, freqs_sin), xv

    def attend(
        self,
        xq: torch.Tensor,
        xk: torch.Tensor,
        xv: torch.Tensor,
        causal: bool,
        mask: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """q (B, Tq, H, D) against k, v (B, Tk, H_kv, D) -> (B, Tq, dim) through ``wo``."""
        bsz, seqlen = xq.shape[:2]
        xq = xq.transpose(1, 2)
        xk = repeat_kv(xk, self.n_rep).transpose(1, 2)
        xv = repeat_kv(xv, self.n_rep).transpose(1, 2)
        out = F.scaled_dot_product_attention(xq, xk, xv, attn_mask=mask, is_causal=causal)
        return self.wo(out.transpose(1, 2).contiguous().view(bsz, seqlen, -1))

    def forward(self, x: torch.Tensor, freqs_cos: torch.Tensor, freqs_sin: torch.Tensor) -> torch.Tensor:
        xq, xk, xv = self.qkv(x, freqs_cos, freqs_sin)
        return self.attend(xq, xk, xv, causal=True)


class FeedForward(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w1 = nn.Linear(DIM, HIDDEN_DIM, bias=False)
        self.w2 = nn.Linear(HIDDEN_DIM, DIM, bias=False)
        self.w3 = nn.Linear(DIM, HIDDEN_DIM, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class TransformerBlock(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attention = Attention()
        self.feed_forward = FeedForward()
        self.attention_norm = RMSNorm(DIM, eps=NORM_EPS)
        self.ffn_norm = RMSNorm(DIM, eps=NORM_EPS)

    def forward(self, x: torch.Tensor, freqs_cos: torch.Tensor, freqs_sin: torch.Tensor) -> torch.Tensor:
        h = x + self.attention(self.attention_norm(x), freqs_cos, freqs_sin)
        return h + self.feed_forward(self.ffn_norm(h))


class _Llama(nn.Module):
    """The computations, over ``tok_embeddings``, ``layers``, ``norm``, ``output`` and the RoPE tables.

    :class:`Transformer` owns the weights; :class:`Prefill` and :class:`Decode` share them (the
    same module objects, so their state dicts have exactly llama2.c's keys).
    """

    tok_embeddings: nn.Embedding
    layers: nn.ModuleList
    norm: RMSNorm
    output: nn.Linear
    freqs_cos: torch.Tensor
    freqs_sin: torch.Tensor

    def forward_all(self, tokens: torch.Tensor) -> torch.Tensor:
        """llama2.c's ``Transformer.forward`` (no cache): tokens (B, T) -> logits (B, T, vocab), every
        position (llama2.c's inference path keeps only the last)."""
        seqlen = tokens.shape[1]
        h = self.tok_embeddings(tokens)
        for layer in self.layers:
            h = layer(h, self.freqs_cos[:seqlen], self.freqs_sin[:seqlen])
        return self.output(self.norm(h))


class Transformer(_Llama):
    """llama2.c's ``Transformer``: builds and initialises the weights; ``forward`` is the full pass."""

    def __init__(self) -> None:
        super().__init__()
        self.tok_embeddings = nn.Embedding(VOCAB_SIZE, DIM)
        self.layers = nn.ModuleList([TransformerBlock() for _ in range(N_LAYERS)])
        self.norm = RMSNorm(DIM, eps=NORM_EPS)
        self.output = nn.Linear(DIM, VOCAB_SIZE, bias=False)
        self.tok_embeddings.weight = self.output.weight  # weight tying, as llama2.c
        freqs_cos, freqs_sin = precompute_freqs_cis(HEAD_DIM, MAX_SEQ_LEN)
        self.register_buffer("freqs_cos", freqs_cos, persistent=False)
        self.register_buffer("freqs_sin", freqs_sin, persistent=False)
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():
            if pn.endswith("w3.weight") or pn.endswith("wo.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * N_LAYERS))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.forward_all(tokens)


class _Function(_Llama):
    """A function of ``model``, sharing its modules and RoPE tables."""

    def __init__(self, model: Transformer) -> None:
        super().__init__()
        self.tok_embeddings = model.tok_embeddings
        self.layers = model.layers
        self.norm = model.norm
        self.output = model.output
        self.register_buffer("freqs_cos", model.freqs_cos, persistent=False)
        self.register_buffer("freqs_sin", model.freqs_sin, persistent=False)


class Prefill(_Function):
    """The ``prefill`` function: a (1, P) prompt -> last logits and caches filled for 0..P-1."""

    def forward(self, tokens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        bsz, seqlen = tokens.shape
        freqs_cos, freqs_sin = self.freqs_cos[:seqlen], self.freqs_sin[:seqlen]
        pad = torch.zeros(bsz, MAX_SEQ_LEN - seqlen, N_KV_HEADS, HEAD_DIM)
        h = self.tok_embeddings(tokens)
        ks = []
        vs = []
        for layer in self.layers:
            xq, xk, xv = layer.attention.qkv(layer.attention_norm(h), freqs_cos, freqs_sin)
            h = h + layer.attention.attend(xq, xk, xv, causal=True)
            h = h + layer.feed_forward(layer.ffn_norm(h))
            ks.append(torch.cat([xk, pad], dim=1))
            vs.append(torch.cat([xv, pad], dim=1))
        logits = self.output(self.norm(h[:, -1:, :]))
        return logits, torch.stack(ks), torch.stack(vs)


def write_cache_row(
    cache: torch.Tensor, layer: int, position: torch.Tensor, row: torch.Tensor
) -> torch.Tensor:
    """``cache[layer, 0, position] = row`` without mutating ``cache``: a one-row ``index_put``."""
    index = (torch.full_like(position, layer), torch.zeros_like(position), position)
    return cache.index_put(index, row)


class Decode(_Function):
    """The ``decode`` function: one token at ``position`` against static (L, 1, S, H, D) caches."""

    def __init__(self, model: Transformer) -> None:
        super().__init__(model)
        self.register_buffer("positions", torch.arange(MAX_SEQ_LEN), persistent=False)

    def forward(
        self, token: torch.Tensor, position: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        position = position.reshape(1)
        freqs_cos = self.freqs_cos.index_select(0, position)  # (1, head_dim / 2)
        freqs_sin = self.freqs_sin.index_select(0, position)
        # additive mask over the cache rows, 0 up to and including ``position`` and -inf after it, of
        # rank 4 (1, 1, 1, S): IREE 3.9 fails to compile an SDPA with a rank-2 or rank-3 mask
        future = (self.positions > position).view(1, 1, 1, -1)
        mask = torch.zeros(future.shape).masked_fill(future, float("-inf"))
        h = self.tok_embeddings(token)
        for i, layer in enumerate(self.layers):
            xq, xk, xv = layer.attention.qkv(layer.attention_norm(h), freqs_cos, freqs_sin)
            # one-row writes into the stacked cache; writing into a slice ``k_cache[i]`` instead
            # does not compile with IREE 3.9 (see the module docstring)
            k_cache = write_cache_row(k_cache, i, position, xk[0])
            v_cache = write_cache_row(v_cache, i, position, xv[0])
            h = h + layer.attention.attend(xq, k_cache[i], v_cache[i], causal=False, mask=mask)
            h = h + layer.feed_forward(layer.ffn_norm(h))
        return self.output(self.norm(h)), k_cache, v_cache


def build(seed: int = 0) -> Dict[str, ModelSpec]:
    """{"prefill", "decode"} with weights and example inputs from ``seed``."""
    with exactly(seed):  # the weights, and the caches the prompt fills, from the seed alone
        model = Transformer()
        with torch.no_grad():
            for mod in model.modules():
                if isinstance(mod, RMSNorm):
                    mod.weight.uniform_(0.5, 1.5)
        model.eval()
        tokens = torch.randint(0, VOCAB_SIZE, (1, PREFILL_LEN + 1))
        prefill = Prefill(model).eval()
        decode = Decode(model).eval()
        prompt, next_token = tokens[:, :PREFILL_LEN], tokens[:, PREFILL_LEN:]
        with torch.no_grad():
            _, k_cache, v_cache = prefill(prompt)
    to_float32(prefill)
    to_float32(decode)
    k_cache, v_cache = to_float32((k_cache, v_cache))
    position = torch.tensor([PREFILL_LEN], dtype=torch.int64)
    return {
        "prefill": ModelSpec(
            module=prefill,
            inputs=(prompt,),
            # IREE 3.9 llvm-cpu (host, seeds 0-2): max abs error 1.6e-6 on logits of magnitude
            # <= 2.6 and on the caches; every element within 7.6e-7 + 1e-4 * |ref|.
            atol=1e-5,
            rtol=1e-4,
            description=(
                "Llama stories15M (llama2.c), prefill of 32 tokens -> last logits (1, 1, 32000) and "
                "(6, 1, 256, 6, 48) KV caches"
            ),
        ),
        "decode": ModelSpec(
            module=decode,
            inputs=(next_token, position, k_cache, v_cache),
            # IREE 3.9 llvm-cpu (host, seeds 0-2): max abs error 1.2e-6 on logits of magnitude
            # <= 2.3 and on the caches' new rows; every element within 6.5e-7 + 1e-4 * |ref|.
            atol=1e-5,
            rtol=1e-4,
            description=(
                "Llama stories15M (llama2.c), one decode step at position 32 with static "
                "(6, 1, 256, 6, 48) KV caches -> logits (1, 1, 32000) and updated caches"
            ),
        ),
    }
