"""A tiny CNN for fast tests (not a published architecture).

Three Conv2d(3x3, no bias) + BatchNorm2d + ReLU stages (3 -> 16, 16 -> 32 stride 2,
32 -> 64 stride 2), global average pooling and Linear(64, 10). Input (1, 3, 32, 32) N(0, 1),
output (1, 10) logits. Exporting and compiling it takes a couple of seconds, so it is the model
to use when a test needs a real end-to-end run but not a real workload.

Parameters: convs 432 + 4,608 + 18,432, BatchNorm affine 32 + 64 + 128, linear 640 + 10 =
24,346. Weights are PyTorch's default initialisation drawn from ``seed``; BatchNorm layers get
random affine parameters and calibrated running statistics (see ``api.calibrate_batchnorm``).
"""

from __future__ import annotations

import torch
from torch import nn

try:  # imported as ``models.tiny_cnn`` (scripts/ on sys.path) or as a top-level module
    from .api import ModelSpec, calibrated
except ImportError:  # pragma: no cover
    from api import ModelSpec, calibrated  # type: ignore[no-redef]

PARAMETERS = 24_346

INPUT_SHAPE = (1, 3, 32, 32)
NUM_CLASSES = 10


def _stage(inp: int, oup: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inp, oup, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(oup),
        nn.ReLU(),
    )


class TinyCNN(nn.Module):
    def __init__(self, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _stage(3, 16, 1),
            _stage(16, 32, 2),
            _stage(32, 64, 2),
        )
        self.classifier = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = torch.mean(x, dim=(2, 3))
        return self.classifier(x)


def build(seed: int = 0) -> ModelSpec:
    """TinyCNN with weights, BatchNorm statistics and a (1, 3, 32, 32) input from ``seed``."""
    model, x = calibrated(TinyCNN, INPUT_SHAPE, seed, calibration_batch=8)
    return ModelSpec(
        module=model,
        inputs=(x,),
        # IREE 3.9 llvm-cpu (host and generic CPU, seeds 0-2): max abs error 1.5e-7.
        atol=2e-6,
        rtol=1e-5,
        description="Tiny 3-stage CNN, 32x32 RGB -> 10 logits (fast smoke-test model)",
    )
