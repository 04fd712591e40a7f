"""Single operators at the shapes the reference models run them: kernel micro-benchmarks.

A model's latency hides which kernel changed between releases; one operator per function, at a
shape a reference model really uses, shows it as its own row across compiler releases (the
matrix `matrix/microbench.toml` runs them on every release). Each function is exported, compiled,
run, checked against torch and timed like any model function.

Functions and where their shapes come from:

``softmax``         (1, 6, 1500, 1500) f32, last dim: Whisper-tiny encoder's attention scores
                    (6 heads over 1500 frames). Inputs N(0, 4^2), like unnormalised scores.
``layer_norm``      (1, 1500, 384): the Whisper-tiny encoder's pre-attention LayerNorm.
``matmul``          (1, 1500, 384) @ Linear(384, 1536): the Whisper-tiny encoder MLP's first GEMM.
``sdpa``            q, k, v (1, 6, 1500, 64): Whisper-tiny encoder self-attention, fused
                    (``F.scaled_dot_product_attention``, as openai's model calls it).
``conv2d_nchw``     (1, 3, 224, 224) -> Conv2d(3, 32, 3, stride 2, pad 1): MobileNetV2's first conv.
``depthwise_conv``  (1, 96, 112, 112) -> Conv2d(96, 96, 3, stride 2, pad 1, groups 96): the
                    depthwise conv of MobileNetV2's first stride-2 inverted residual.

Parameters: LayerNorm 768, Linear 589,824 + 1,536, conv 864, depthwise 864 = 593,856.
"""

from __future__ import annotations

from typing import Dict

import torch
from torch import nn
from torch.nn import functional as F

try:  # imported as ``models.ops`` (scripts/ on sys.path) or as a top-level module
    from .api import ModelSpec, exactly, to_float32
except ImportError:  # pragma: no cover
    from api import ModelSpec, exactly, to_float32  # type: ignore[no-redef]

FUNCTIONS = ("softmax", "layer_norm", "matmul", "sdpa", "conv2d_nchw", "depthwise_conv")
PARAMETERS = 593_856


class Softmax(nn.Module):
    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        return torch.softmax(scores, dim=-1)


class Attention(nn.Module):
    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v)


def _spec(module: nn.Module, inputs, atol: float, description: str) -> ModelSpec:
    to_float32(module).eval()
    return ModelSpec(
        module=module, inputs=to_float32(tuple(inputs)), atol=atol, rtol=1e-4, description=description
    )


def build(seed: int = 0) -> Dict[str, ModelSpec]:
    """Each operator with its weights and inputs drawn from ``seed``."""
    with exactly(seed):  # drawn in float64: float32's sampler differs between CPUs
        scores = torch.randn(1, 6, 1500, 1500) * 4.0
        norm = nn.LayerNorm(384)
        with torch.no_grad():  # a fresh LayerNorm is the identity affine: make it do something
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.normal_(0.0, 0.1)
        frames = torch.randn(1, 1500, 384)
        fc1 = nn.Linear(384, 1536)
        q, k, v = (torch.randn(1, 6, 1500, 64) for _ in range(3))
        conv = nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False)
        image = torch.randn(1, 3, 224, 224)
        depthwise = nn.Conv2d(96, 96, 3, stride=2, padding=1, groups=96, bias=False)
        features = torch.randn(1, 96, 112, 112)
    # Tolerances (with rtol 1e-4): the largest abs error over IREE 2.9.0-3.13.0 (results/microbench)
    # was 7.7e-6 for softmax (on its largest probabilities, inside rtol), 2.9e-6 layer_norm, 2.6e-6
    # matmul, 7e-7 conv and sdpa, 0 depthwise.
    return {
        "softmax": _spec(Softmax(), (scores,), 1e-6, "softmax over 1500 (Whisper-tiny attention scores)"),
        "layer_norm": _spec(norm, (frames,), 2e-5, "LayerNorm(384) over 1500 frames (Whisper-tiny)"),
        "matmul": _spec(fc1, (frames,), 2e-5, "Linear 384->1536 on 1500 frames (Whisper-tiny MLP)"),
        "sdpa": _spec(Attention(), (q, k, v), 2e-5, "fused attention, 6 heads x 1500 x 64 (Whisper-tiny)"),
        "conv2d_nchw": _spec(conv, (image,), 2e-5, "Conv2d 3->32 k3 s2, 224x224 NCHW (MobileNetV2 stem)"),
        "depthwise_conv": _spec(
            depthwise, (features,), 2e-5, "depthwise Conv2d 96 k3 s2, 112x112 (MobileNetV2)"
        ),
    }
