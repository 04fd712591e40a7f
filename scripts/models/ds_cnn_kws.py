"""A keyword-spotting DS-CNN sized for a microcontroller (written here; not a trained network).

The depthwise-separable CNN of Zhang et al., "Hello Edge: Keyword Spotting on Microcontrollers"
(arXiv:1711.07128), small variant: a 10x4 convolution with stride 2 over the 49x10 MFCC map (49
frames of 10 coefficients, 1 s of audio), four blocks of depthwise 3x3 + pointwise 1x1 convolution
(64 channels, each followed by BatchNorm and ReLU), global average pooling and Linear(64, 12) for
the 12 classes of Google Speech Commands (10 words, silence, unknown). Input (1, 1, 49, 10) N(0, 1),
output (1, 12) logits. It is the size of network that ships on Cortex-M4 boards (the Cortex-M
target, docs/cortex-m.md).

Parameters: first conv 64 x 10 x 4 = 2,560 + 64 bias, BatchNorm affine 9 x 128, depthwise 4 x 576,
pointwise 4 x 4,096, linear 768 + 12 = 23,244. Weights are PyTorch's default initialisation drawn from
``seed``; BatchNorm layers get random affine parameters and calibrated running statistics.
"""

from __future__ import annotations

import torch
from torch import nn

try:  # imported as ``models.ds_cnn_kws`` (scripts/ on sys.path) or as a top-level module
    from .api import ModelSpec, calibrated
except ImportError:  # pragma: no cover
    from api import ModelSpec, calibrated  # type: ignore[no-redef]

PARAMETERS = 23_244

INPUT_SHAPE = (1, 1, 49, 10)
NUM_CLASSES = 12
CHANNELS = 64
BLOCKS = 4


def _separable(channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False),
        nn.BatchNorm2d(channels),
        nn.ReLU(),
        nn.Conv2d(channels, channels, 1, bias=False),
        nn.BatchNorm2d(channels),
        nn.ReLU(),
    )


class DSCNN(nn.Module):
    def __init__(self, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, CHANNELS, (10, 4), stride=(2, 2), padding=(5, 1)),
            nn.BatchNorm2d(CHANNELS),
            nn.ReLU(),
        )
        self.blocks = nn.Sequential(*[_separable(CHANNELS) for _ in range(BLOCKS)])
        self.classifier = nn.Linear(CHANNELS, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.stem(x))
        x = torch.mean(x, dim=(2, 3))
        return self.classifier(x)


def build(seed: int = 0) -> ModelSpec:
    """DS-CNN with weights, BatchNorm statistics and a (1, 1, 49, 10) MFCC-shaped input from ``seed``."""
    model, x = calibrated(DSCNN, INPUT_SHAPE, seed, calibration_batch=8)
    return ModelSpec(
        module=model,
        inputs=(x,),
        # As tiny_cnn: float32 convolutions summed in another order than torch's.
        atol=2e-6,
        rtol=1e-5,
        description="Keyword-spotting DS-CNN (Hello Edge, small), 49x10 MFCC -> 12 classes",
    )
