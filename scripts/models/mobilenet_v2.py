"""MobileNetV2 (width 1.0, 224x224, 1000 classes).

Source: M. Sandler, A. Howard, M. Zhu, A. Zhmoginov, L.-C. Chen, "MobileNetV2: Inverted
Residuals and Linear Bottlenecks", CVPR 2018, arXiv:1801.04381. The layout is the one of
torchvision's ``torchvision/models/mobilenetv2.py`` (``mobilenet_v2()``), written here in plain
torch because torchvision is not available in every matrix environment. Module names mirror
torchvision's (``features.N.conv.M...``, ``classifier.1``), so a torchvision state dict loads.

Architecture: a 3x3 stride-2 stem conv to 32 channels; 17 inverted-residual blocks with the
(t, c, n, s) settings (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2)
(6,320,1,1) -- 1x1 expansion (when t != 1), 3x3 depthwise, linear 1x1 projection, each followed
by BatchNorm, ReLU6 after the first two, and a residual add when stride is 1 and the channel
count is unchanged; a 1x1 conv to 1280; global average pooling; Dropout(0.2); Linear(1280, 1000).
Convolutions have no bias. Published parameter count: 3,504,872 (torchvision's
``MobileNet_V2_Weights.IMAGENET1K_V1.meta["num_params"]``).

Weights: torchvision's initialisation scheme (Kaiming-normal fan-out convolutions, N(0, 0.01)
classifier), drawn from ``seed``; BatchNorm layers then get random affine parameters and
running statistics calibrated on a seeded random batch (see ``api.calibrate_batchnorm``), so
the eval-mode BatchNorms are not identities. Input: one (1, 3, 224, 224) N(0, 1) image; output:
(1, 1000) logits.
"""

from __future__ import annotations

from typing import List

import torch
from torch import nn

try:  # imported as ``models.mobilenet_v2`` (scripts/ on sys.path) or as a top-level module
    from .api import ModelSpec, calibrated
except ImportError:  # pragma: no cover
    from api import ModelSpec, calibrated  # type: ignore[no-redef]

PARAMETERS = 3_504_872

INPUT_SHAPE = (1, 3, 224, 224)
NUM_CLASSES = 1000

# (expand ratio t, output channels c, repeats n, first stride s)
INVERTED_RESIDUAL_SETTING = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def _make_divisible(v: float, divisor: int = 8) -> int:
    """torchvision's channel rounding: nearest multiple of ``divisor``, never below 90% of v."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _conv_bn_relu6(inp: int, oup: int, kernel: int = 3, stride: int = 1, groups: int = 1):
    """torchvision's ``Conv2dNormActivation``: Conv2d (no bias) + BatchNorm2d + ReLU6."""
    padding = (kernel - 1) // 2
    return nn.Sequential(
        nn.Conv2d(inp, oup, kernel, stride, padding, groups=groups, bias=False),
        nn.BatchNorm2d(oup),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride should be 1 or 2, got {stride}")
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers: List[nn.Module] = []
        if expand_ratio != 1:
            layers.append(_conv_bn_relu6(inp, hidden_dim, kernel=1))
        layers.extend(
            [
                _conv_bn_relu6(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim),
                nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
                nn.BatchNorm2d(oup),
            ]
        )
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(
        self,
        num_classes: int = NUM_CLASSES,
        width_mult: float = 1.0,
        round_nearest: int = 8,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        input_channel = _make_divisible(32 * width_mult, round_nearest)
        self.last_channel = _make_divisible(1280 * max(1.0, width_mult), round_nearest)
        features: List[nn.Module] = [_conv_bn_relu6(3, input_channel, stride=2)]
        for t, c, n, s in INVERTED_RESIDUAL_SETTING:
            output_channel = _make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                stride = s if i == 0 else 1
                features.append(InvertedResidual(input_channel, output_channel, stride, t))
                input_channel = output_channel
        features.append(_conv_bn_relu6(input_channel, self.last_channel, kernel=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(self.last_channel, num_classes),
        )
        # torchvision's weight initialisation
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = nn.functional.adaptive_avg_pool2d(x, (1, 1))
        x = torch.flatten(x, 1)
        return self.classifier(x)


def build(seed: int = 0) -> ModelSpec:
    """MobileNetV2 with weights, BatchNorm statistics and a (1, 3, 224, 224) input from ``seed``."""
    model, x = calibrated(MobileNetV2, INPUT_SHAPE, seed)
    return ModelSpec(
        module=model,
        inputs=(x,),
        # IREE 3.9 llvm-cpu (host and generic CPU, seeds 0-2): max abs error 3.5e-6 on logits
        # of magnitude <= 0.6 (max relative error 1.9e-4 where |logit| > 0.01).
        atol=5e-5,
        rtol=1e-4,
        description="MobileNetV2 1.0 (Sandler et al. 2018), 224x224 RGB -> 1000 logits",
    )
