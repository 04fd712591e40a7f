"""MobileNetV3-Small (width 1.0, 224x224, 1000 classes).

Source: A. Howard, M. Sandler, G. Chu, L.-C. Chen, B. Chen, M. Tan, W. Wang, Y. Zhu, R. Pang,
V. Vasudevan, Q. V. Le, H. Adam, "Searching for MobileNetV3", ICCV 2019, arXiv:1905.02244
(Table 2). The layout is the one of torchvision's ``torchvision/models/mobilenetv3.py``
(``mobilenet_v3_small()``), written here in plain torch because torchvision is not available in
every matrix environment. Module names mirror torchvision's (``features.N.block.M...``,
``block.K.fc1``/``fc2`` for squeeze-excitation, ``classifier.0``/``classifier.3``), so a
torchvision state dict loads.

Architecture: a 3x3 stride-2 stem conv to 16 channels with hardswish; 11 inverted-residual
blocks with the (kernel, expanded, out, SE, activation, stride) settings

    (3,  16, 16, SE, RE, 2)  (3,  72, 24, -, RE, 2)  (3,  88, 24, -, RE, 1)
    (5,  96, 40, SE, HS, 2)  (5, 240, 40, SE, HS, 1) (5, 240, 40, SE, HS, 1)
    (5, 120, 48, SE, HS, 1)  (5, 144, 48, SE, HS, 1) (5, 288, 96, SE, HS, 2)
    (5, 576, 96, SE, HS, 1)  (5, 576, 96, SE, HS, 1)

(RE = ReLU, HS = hardswish) -- each a 1x1 expansion (omitted when the expanded width equals the
input width), a kxk depthwise conv, an optional squeeze-excitation (global average pool, 1x1
conv to ``_make_divisible(expanded // 4, 8)`` channels, ReLU, 1x1 conv back, hardsigmoid,
multiply), and a linear 1x1 projection, every conv followed by BatchNorm (eps 1e-3, momentum
0.01) and a residual add when stride is 1 and the width is unchanged; a 1x1 conv to 576 with
hardswish; global average pooling; Linear(576, 1024), hardswish, Dropout(0.2), Linear(1024,
1000). Convolutions have no bias except the SE ones. Published parameter count: 2,542,856
(torchvision's ``MobileNet_V3_Small_Weights.IMAGENET1K_V1.meta["num_params"]``).

Weights: torchvision's initialisation scheme (Kaiming-normal fan-out convolutions with zero
bias, N(0, 0.01) linear layers), drawn from ``seed``; BatchNorm layers then get random affine
parameters and running statistics calibrated on a seeded random batch (see
``api.calibrate_batchnorm``). Input: one (1, 3, 224, 224) N(0, 1) image; output: (1, 1000)
logits.
"""

from __future__ import annotations

from typing import List

import torch
from torch import nn

try:  # imported as ``models.mobilenet_v3_small`` (scripts/ on sys.path) or as a top-level module
    from .api import ModelSpec, calibrated
except ImportError:  # pragma: no cover
    from api import ModelSpec, calibrated  # type: ignore[no-redef]

PARAMETERS = 2_542_856

INPUT_SHAPE = (1, 3, 224, 224)
NUM_CLASSES = 1000
LAST_CHANNEL = 1024

BN_EPS = 1e-3
BN_MOMENTUM = 0.01

# (input channels, kernel, expanded channels, output channels, use SE, activation, stride)
INVERTED_RESIDUAL_SETTING = (
    (16, 3, 16, 16, True, "RE", 2),  # C1
    (16, 3, 72, 24, False, "RE", 2),  # C2
    (24, 3, 88, 24, False, "RE", 1),
    (24, 5, 96, 40, True, "HS", 2),  # C3
    (40, 5, 240, 40, True, "HS", 1),
    (40, 5, 240, 40, True, "HS", 1),
    (40, 5, 120, 48, True, "HS", 1),
    (48, 5, 144, 48, True, "HS", 1),
    (48, 5, 288, 96, True, "HS", 2),  # C4
    (96, 5, 576, 96, True, "HS", 1),
    (96, 5, 576, 96, True, "HS", 1),
)


def _make_divisible(v: float, divisor: int = 8) -> int:
    """torchvision's channel rounding: nearest multiple of ``divisor``, never below 90% of v."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _conv_bn_act(
    inp: int,
    oup: int,
    kernel: int = 3,
    stride: int = 1,
    groups: int = 1,
    activation: str = "",
) -> nn.Sequential:
    """torchvision's ``Conv2dNormActivation``: Conv2d (no bias) + BatchNorm2d [+ activation]."""
    padding = (kernel - 1) // 2
    layers: List[nn.Module] = [
        nn.Conv2d(inp, oup, kernel, stride, padding, groups=groups, bias=False),
        nn.BatchNorm2d(oup, eps=BN_EPS, momentum=BN_MOMENTUM),
    ]
    if activation == "HS":
        layers.append(nn.Hardswish(inplace=True))
    elif activation == "RE":
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation with ReLU and a hardsigmoid scale activation."""

    def __init__(self, input_channels: int, squeeze_channels: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = nn.ReLU()
        self.scale_activation = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.avgpool(x)
        scale = self.activation(self.fc1(scale))
        scale = self.scale_activation(self.fc2(scale))
        return scale * x


class InvertedResidual(nn.Module):
    def __init__(
        self,
        inp: int,
        kernel: int,
        expanded: int,
        oup: int,
        use_se: bool,
        activation: str,
        stride: int,
    ) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride should be 1 or 2, got {stride}")
        self.use_res_connect = stride == 1 and inp == oup
        layers: List[nn.Module] = []
        if expanded != inp:
            layers.append(_conv_bn_act(inp, expanded, kernel=1, activation=activation))
        layers.append(
            _conv_bn_act(
                expanded, expanded, kernel=kernel, stride=stride, groups=expanded, activation=activation
            )
        )
        if use_se:
            layers.append(SqueezeExcitation(expanded, _make_divisible(expanded // 4, 8)))
        layers.append(_conv_bn_act(expanded, oup, kernel=1))
        self.block = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result = self.block(x)
        if self.use_res_connect:
            result = result + x
        return result


class MobileNetV3Small(nn.Module):
    def __init__(self, num_classes: int = NUM_CLASSES, dropout: float = 0.2) -> None:
        super().__init__()
        first = INVERTED_RESIDUAL_SETTING[0][0]
        layers: List[nn.Module] = [_conv_bn_act(3, first, kernel=3, stride=2, activation="HS")]
        for setting in INVERTED_RESIDUAL_SETTING:
            layers.append(InvertedResidual(*setting))
        last_in = INVERTED_RESIDUAL_SETTING[-1][3]
        last_out = 6 * last_in  # 576
        layers.append(_conv_bn_act(last_in, last_out, kernel=1, activation="HS"))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(last_out, LAST_CHANNEL),
            nn.Hardswish(inplace=True),
            nn.Dropout(p=dropout, inplace=True),
            nn.Linear(LAST_CHANNEL, num_classes),
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
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def build(seed: int = 0) -> ModelSpec:
    """MobileNetV3-Small with weights, BatchNorm statistics and a (1, 3, 224, 224) input from ``seed``."""
    model, x = calibrated(MobileNetV3Small, INPUT_SHAPE, seed)
    return ModelSpec(
        module=model,
        inputs=(x,),
        # IREE 3.9 llvm-cpu (host, seeds 0-2): max abs error 8.4e-8 on logits of magnitude
        # <= 0.036 (max relative error 5.5e-6 where |logit| > 0.01).
        atol=1e-6,
        rtol=1e-4,
        description="MobileNetV3-Small (Howard et al. 2019), 224x224 RGB -> 1000 logits",
    )
