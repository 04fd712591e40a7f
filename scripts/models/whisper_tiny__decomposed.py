"""Whisper tiny's encoder with attention written out: matmul -> softmax -> matmul, no SDPA.

The export-side variant of ``whisper_tiny`` (named ``whisper_tiny@decomposed``) that the flag search
(issue #13) measures beside the compile flags: the same weights, inputs and outputs as
``whisper_tiny``'s ``encoder`` (seed for seed), only the attention of every block is traced as
``softmax(q k^T / sqrt(64)) v`` instead of ``F.scaled_dot_product_attention``. IREE lowers SDPA
to one fused attention op whose CPU code is slow (about 0.6 s per call on a 6 x 1500 x 64 shape in
every release, the ``ops`` micro-benchmark), while it runs the two matmuls and the softmax with its
ordinary kernels. Mathematically the same computation; torch's outputs agree within 2e-6.

Only the encoder: the decoder step attends from one query row, where SDPA costs little.
"""

from __future__ import annotations

import math
import types
from typing import Dict, Optional

import torch

try:
    from . import whisper_tiny as base
    from .api import ModelSpec
except ImportError:  # pragma: no cover
    import whisper_tiny as base  # type: ignore[no-redef]
    from api import ModelSpec  # type: ignore[no-redef]

FUNCTIONS = ("encoder",)
PARAMETERS = 7_632_384  # the encoder's (whisper_tiny.ENCODER_PARAMETERS)


def decomposed_attention(
    self: torch.nn.Module,
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    causal: bool = False,
    mask: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """``MultiHeadAttention.qkv_attention`` with SDPA spelled out (same shapes, same mask rules).

    The head split repeats whisper_tiny's own lines on purpose: factoring them out would edit
    whisper_tiny.py, whose hash keys every stored Whisper result across the release history."""
    q = q.view(*q.shape[:2], self.n_head, -1).permute(0, 2, 1, 3)
    k = k.view(*k.shape[:2], self.n_head, -1).permute(0, 2, 1, 3)
    v = v.view(*v.shape[:2], self.n_head, -1).permute(0, 2, 1, 3)
    scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1]))
    if mask is not None:
        scores = scores + mask
    if causal and q.shape[2] > 1:
        scores = scores.masked_fill(
            torch.ones(q.shape[2], k.shape[2], dtype=torch.bool).triu(1), float("-inf")
        )
    a = torch.softmax(scores, dim=-1) @ v
    return a.permute(0, 2, 1, 3).flatten(start_dim=2)


def build(seed: int = 0) -> Dict[str, ModelSpec]:
    """{"encoder"}: ``whisper_tiny.build(seed)["encoder"]`` with its attention decomposed."""
    spec = base.build(seed)["encoder"]
    for module in spec.module.modules():
        if isinstance(module, base.MultiHeadAttention):
            module.qkv_attention = types.MethodType(decomposed_attention, module)
    spec.description = spec.description + ", attention as matmul-softmax-matmul (no SDPA)"
    return {"encoder": spec}
