"""YOLOX-Nano object detector (416x416, 80 COCO classes), with the head's box decoding.

Source: Z. Ge, S. Liu, F. Wang, Z. Li, J. Sun, "YOLOX: Exceeding YOLO Series in 2021",
arXiv:2107.08430, as implemented in Megvii's YOLOX repository: ``exps/default/yolox_nano.py``
(depth 0.33, width 0.25, ``depthwise=True``, act "silu", input 416x416, BatchNorm eps 1e-3 and
momentum 0.03, ``head.initialize_biases(1e-2)``) building ``yolox/models/darknet.py``
(``CSPDarknet``), ``yolo_pafpn.py`` (``YOLOPAFPN``), ``yolo_head.py`` (``YOLOXHead``) and
``network_blocks.py``. Written here in plain torch; module names mirror the repository's
(``backbone.backbone.dark3.1.m.0.conv2.dconv.conv``, ``head.cls_preds.0`` ...), so a YOLOX
checkpoint's ``model`` state dict loads.

Architecture (width 0.25: base channels 16; depth 0.33: base depth 1). Every conv is
``BaseConv`` = Conv2d (no bias) + BatchNorm2d + SiLU; ``DWConv`` = depthwise kxk BaseConv +
pointwise 1x1 BaseConv. Backbone ``CSPDarknet``: ``Focus`` stem (space-to-depth 2x2, 3x3
BaseConv 12 -> 16), dark2 (DWConv 3x3/2 16 -> 32, CSPLayer n=1), dark3 (DWConv/2 -> 64, CSPLayer
n=3), dark4 (DWConv/2 -> 128, CSPLayer n=3), dark5 (DWConv/2 -> 256, SPPBottleneck with max
pools 5/9/13, CSPLayer n=1 without shortcut); a CSPLayer is two 1x1 BaseConvs to half width, n
Bottlenecks (1x1 BaseConv + 3x3 DWConv, residual add when shortcut) on the first, concat, 1x1
BaseConv. Neck ``YOLOPAFPN``: top-down (lateral 1x1, nearest 2x upsample, concat, CSPLayer) and
bottom-up (3x3/2 DWConv, concat, CSPLayer) paths giving 64/128/256 channels at strides 8/16/32.
Head ``YOLOXHead`` (decoupled), per level: 1x1 stem to 64, a classification branch (2 DWConv
3x3) with a 1x1 conv to 80 class logits, and a regression branch (2 DWConv 3x3) with 1x1 convs
to 4 box and 1 objectness logits.

In eval mode the head decodes its outputs as the original does (``decode_in_inference``): per
level ``cat([reg, sigmoid(obj), sigmoid(cls)])``, flattened and concatenated over the levels
into (1, 52*52 + 26*26 + 13*13 = 3549, 85), then ``xy = (xy + grid) * stride`` and ``wh =
exp(wh) * stride``. The original computes the grid from ``self.hw``, which ``forward`` assigns
from the feature-map shapes -- a module attribute written during tracing, which is what needed
patching for export upstream. Here the grid and the per-anchor strides are computed once in
``__init__`` from the static input size and the strides (non-persistent buffers, not in the
state dict), with the same values the original computes; the forward pass has no data-dependent
shapes. Each output row is (cx, cy, w, h) in input pixels, objectness, 80 class scores.

Parameter count. Counted from this architecture (BatchNorm weight+bias included, running stats
excluded): 912,159 = backbone (CSPDarknet) 459,968 + neck (the rest of YOLOPAFPN) 347,424 +
head 104,767. The YOLOX README and paper (Table 4) list "0.91M" parameters for YOLOX-Nano, which
this matches to the printed precision. ``PARAMETERS`` is the exact count.

Weights: PyTorch's default convolution initialisation drawn from ``seed``, the nano exp's
BatchNorm eps/momentum and prior-probability (0.01) biases of the classification and
objectness convs; BatchNorm layers then get random affine parameters and running statistics
calibrated on the example input itself (see ``api.calibrate_batchnorm``). Input: one
(1, 3, 416, 416) image drawn from U(0, 255) (YOLOX feeds unnormalised 0-255 BGR pixels);
output: (1, 3549, 85) decoded predictions (before NMS, which is not part of the model).

Why calibrate on the example input rather than on a separate random batch: in this random-weight
network the statistics of the deep 13x13 features differ a lot from one noise image to the next
(the SPP max pools see most of the map), so statistics taken from other images leave the
example's activations several times too large by the head, and ``exp(wh)`` then reaches 1e15.
Calibrated on the input itself, every BatchNorm sees exactly its own statistics and the decoded
boxes stay image-sized (centres within the 416x416 image, widths/heights up to a few hundred
pixels, scores in (0, 1)).
"""

from __future__ import annotations

import math
from typing import List, Sequence, Tuple

import torch
from torch import nn

try:  # imported as ``models.yolox_nano`` (scripts/ on sys.path) or as a top-level module
    from .api import ModelSpec, calibrate_batchnorm, exactly, to_float32
except ImportError:  # pragma: no cover
    from api import ModelSpec, calibrate_batchnorm, exactly, to_float32  # type: ignore[no-redef]

PARAMETERS = 912_159
BACKBONE_PARAMETERS = 459_968
NECK_PARAMETERS = 347_424
HEAD_PARAMETERS = 104_767

DEPTH = 0.33
WIDTH = 0.25
INPUT_SIZE = (416, 416)
INPUT_SHAPE = (1, 3) + INPUT_SIZE
NUM_CLASSES = 80
STRIDES = (8, 16, 32)
IN_CHANNELS = (256, 512, 1024)
NUM_ANCHORS = sum((INPUT_SIZE[0] // s) * (INPUT_SIZE[1] // s) for s in STRIDES)  # 3549
OUTPUT_SHAPE = (1, NUM_ANCHORS, 5 + NUM_CLASSES)

BN_EPS = 1e-3  # exps/default/yolox_nano.py: init_yolo
BN_MOMENTUM = 0.03
PRIOR_PROB = 1e-2


class BaseConv(nn.Module):
    """Conv2d (no bias, "same" padding) -> BatchNorm2d -> SiLU."""

    def __init__(self, in_channels: int, out_channels: int, ksize: int, stride: int, groups: int = 1) -> None:
        super().__init__()
        pad = (ksize - 1) // 2
        self.conv = nn.Conv2d(in_channels, out_channels, ksize, stride, pad, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(out_channels, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.act = nn.SiLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class DWConv(nn.Module):
    """Depthwise kxk BaseConv + pointwise 1x1 BaseConv."""

    def __init__(self, in_channels: int, out_channels: int, ksize: int, stride: int = 1) -> None:
        super().__init__()
        self.dconv = BaseConv(in_channels, in_channels, ksize, stride, groups=in_channels)
        self.pconv = BaseConv(in_channels, out_channels, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pconv(self.dconv(x))


class Bottleneck(nn.Module):
    def __init__(
        self, in_channels: int, out_channels: int, shortcut: bool = True, expansion: float = 0.5
    ) -> None:
        super().__init__()
        hidden = int(out_channels * expansion)
        self.conv1 = BaseConv(in_channels, hidden, 1, 1)
        self.conv2 = DWConv(hidden, out_channels, 3, 1)
        self.use_add = shortcut and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(self.conv1(x))
        if self.use_add:
            y = y + x
        return y


class SPPBottleneck(nn.Module):
    """Spatial pyramid pooling as in YOLOv3-SPP: 1x1 conv, max pools 5/9/13, concat, 1x1 conv."""

    def __init__(self, in_channels: int, out_channels: int, kernel_sizes: Sequence[int] = (5, 9, 13)) -> None:
        super().__init__()
        hidden = in_channels // 2
        self.conv1 = BaseConv(in_channels, hidden, 1, 1)
        self.m = nn.ModuleList([nn.MaxPool2d(kernel_size=k, stride=1, padding=k // 2) for k in kernel_sizes])
        self.conv2 = BaseConv(hidden * (len(kernel_sizes) + 1), out_channels, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = torch.cat([x] + [m(x) for m in self.m], dim=1)
        return self.conv2(x)


class CSPLayer(nn.Module):
    """C3 of YOLOv5: CSP bottleneck with 3 convolutions."""

    def __init__(
        self, in_channels: int, out_channels: int, n: int = 1, shortcut: bool = True, expansion: float = 0.5
    ) -> None:
        super().__init__()
        hidden = int(out_channels * expansion)
        self.conv1 = BaseConv(in_channels, hidden, 1, 1)
        self.conv2 = BaseConv(in_channels, hidden, 1, 1)
        self.conv3 = BaseConv(2 * hidden, out_channels, 1, 1)
        self.m = nn.Sequential(*[Bottleneck(hidden, hidden, shortcut, 1.0) for _ in range(n)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_1 = self.m(self.conv1(x))
        x_2 = self.conv2(x)
        return self.conv3(torch.cat((x_1, x_2), dim=1))


class Focus(nn.Module):
    """Space-to-depth (2x2 patches into channels), then a BaseConv."""

    def __init__(self, in_channels: int, out_channels: int, ksize: int = 1, stride: int = 1) -> None:
        super().__init__()
        self.conv = BaseConv(in_channels * 4, out_channels, ksize, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top_left = x[..., ::2, ::2]
        top_right = x[..., ::2, 1::2]
        bot_left = x[..., 1::2, ::2]
        bot_right = x[..., 1::2, 1::2]
        return self.conv(torch.cat((top_left, bot_left, top_right, bot_right), dim=1))


class CSPDarknet(nn.Module):
    def __init__(self, dep_mul: float, wid_mul: float) -> None:
        super().__init__()
        base_channels = int(wid_mul * 64)  # 16
        base_depth = max(round(dep_mul * 3), 1)  # 1
        self.stem = Focus(3, base_channels, ksize=3)
        self.dark2 = nn.Sequential(
            DWConv(base_channels, base_channels * 2, 3, 2),
            CSPLayer(base_channels * 2, base_channels * 2, n=base_depth),
        )
        self.dark3 = nn.Sequential(
            DWConv(base_channels * 2, base_channels * 4, 3, 2),
            CSPLayer(base_channels * 4, base_channels * 4, n=base_depth * 3),
        )
        self.dark4 = nn.Sequential(
            DWConv(base_channels * 4, base_channels * 8, 3, 2),
            CSPLayer(base_channels * 8, base_channels * 8, n=base_depth * 3),
        )
        self.dark5 = nn.Sequential(
            DWConv(base_channels * 8, base_channels * 16, 3, 2),
            SPPBottleneck(base_channels * 16, base_channels * 16),
            CSPLayer(base_channels * 16, base_channels * 16, n=base_depth, shortcut=False),
        )

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.dark2(self.stem(x))
        dark3 = self.dark3(x)
        dark4 = self.dark4(dark3)
        dark5 = self.dark5(dark4)
        return dark3, dark4, dark5


class YOLOPAFPN(nn.Module):
    def __init__(self, depth: float, width: float, in_channels: Sequence[int] = IN_CHANNELS) -> None:
        super().__init__()
        self.backbone = CSPDarknet(depth, width)
        c0, c1, c2 = (int(c * width) for c in in_channels)  # 64, 128, 256
        n = round(3 * depth)
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.lateral_conv0 = BaseConv(c2, c1, 1, 1)
        self.C3_p4 = CSPLayer(2 * c1, c1, n, False)
        self.reduce_conv1 = BaseConv(c1, c0, 1, 1)
        self.C3_p3 = CSPLayer(2 * c0, c0, n, False)
        self.bu_conv2 = DWConv(c0, c0, 3, 2)
        self.C3_n3 = CSPLayer(2 * c0, c1, n, False)
        self.bu_conv1 = DWConv(c1, c1, 3, 2)
        self.C3_n4 = CSPLayer(2 * c1, c2, n, False)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x2, x1, x0 = self.backbone(x)
        fpn_out0 = self.lateral_conv0(x0)
        f_out0 = self.C3_p4(torch.cat([self.upsample(fpn_out0), x1], 1))
        fpn_out1 = self.reduce_conv1(f_out0)
        pan_out2 = self.C3_p3(torch.cat([self.upsample(fpn_out1), x2], 1))
        pan_out1 = self.C3_n3(torch.cat([self.bu_conv2(pan_out2), fpn_out1], 1))
        pan_out0 = self.C3_n4(torch.cat([self.bu_conv1(pan_out1), fpn_out0], 1))
        return pan_out2, pan_out1, pan_out0


def _grids_and_strides(
    input_size: Tuple[int, int], strides: Sequence[int]
) -> Tuple[torch.Tensor, torch.Tensor]:
    """``YOLOXHead.decode_outputs``'s grids (1, A, 2) as (x, y) and strides (1, A, 1), static."""
    grids: List[torch.Tensor] = []
    expanded: List[torch.Tensor] = []
    for stride in strides:
        hsize, wsize = input_size[0] // stride, input_size[1] // stride
        yv, xv = torch.meshgrid(torch.arange(hsize), torch.arange(wsize), indexing="ij")
        grid = torch.stack((xv, yv), 2).view(1, -1, 2)
        grids.append(grid)
        expanded.append(torch.full((1, grid.shape[1], 1), stride))
    return torch.cat(grids, dim=1).float(), torch.cat(expanded, dim=1).float()


class YOLOXHead(nn.Module):
    def __init__(
        self,
        num_classes: int,
        width: float,
        strides: Sequence[int] = STRIDES,
        in_channels: Sequence[int] = IN_CHANNELS,
        input_size: Tuple[int, int] = INPUT_SIZE,
    ) -> None:
        super().__init__()
        self.n_anchors = 1
        self.num_classes = num_classes
        self.strides = tuple(strides)
        hidden = int(256 * width)  # 64
        self.stems = nn.ModuleList()
        self.cls_convs = nn.ModuleList()
        self.reg_convs = nn.ModuleList()
        self.cls_preds = nn.ModuleList()
        self.reg_preds = nn.ModuleList()
        self.obj_preds = nn.ModuleList()
        for channels in in_channels:
            self.stems.append(BaseConv(int(channels * width), hidden, 1, 1))
            self.cls_convs.append(nn.Sequential(DWConv(hidden, hidden, 3, 1), DWConv(hidden, hidden, 3, 1)))
            self.reg_convs.append(nn.Sequential(DWConv(hidden, hidden, 3, 1), DWConv(hidden, hidden, 3, 1)))
            self.cls_preds.append(nn.Conv2d(hidden, self.n_anchors * num_classes, 1, 1, 0))
            self.reg_preds.append(nn.Conv2d(hidden, 4, 1, 1, 0))
            self.obj_preds.append(nn.Conv2d(hidden, self.n_anchors * 1, 1, 1, 0))
        grids, expanded_strides = _grids_and_strides(input_size, self.strides)
        self.register_buffer("grids", grids, persistent=False)
        self.register_buffer("expanded_strides", expanded_strides, persistent=False)

    @torch.no_grad()
    def initialize_biases(self, prior_prob: float) -> None:
        for conv in list(self.cls_preds) + list(self.obj_preds):
            conv.bias.fill_(-math.log((1 - prior_prob) / prior_prob))

    def forward(self, xin: Sequence[torch.Tensor]) -> torch.Tensor:
        outputs: List[torch.Tensor] = []
        for k, x in enumerate(xin):
            x = self.stems[k](x)
            cls_output = self.cls_preds[k](self.cls_convs[k](x))
            reg_feat = self.reg_convs[k](x)
            reg_output = self.reg_preds[k](reg_feat)
            obj_output = self.obj_preds[k](reg_feat)
            outputs.append(torch.cat([reg_output, obj_output.sigmoid(), cls_output.sigmoid()], 1))
        # [batch, n_anchors_all, 85]
        out = torch.cat([x.flatten(start_dim=2) for x in outputs], dim=2).permute(0, 2, 1)
        if out.shape[1] != self.grids.shape[1]:
            raise ValueError(
                f"expected {self.grids.shape[1]} anchors (input {INPUT_SIZE}), got {out.shape[1]}"
            )
        return self.decode_outputs(out)

    def decode_outputs(self, outputs: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [
                (outputs[..., 0:2] + self.grids) * self.expanded_strides,
                torch.exp(outputs[..., 2:4]) * self.expanded_strides,
                outputs[..., 4:],
            ],
            dim=-1,
        )


class YOLOX(nn.Module):
    """YOLOPAFPN backbone + YOLOXHead, eval-mode (decoded) forward only."""

    def __init__(self, depth: float = DEPTH, width: float = WIDTH, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self.backbone = YOLOPAFPN(depth, width)
        self.head = YOLOXHead(num_classes, width)
        self.head.initialize_biases(PRIOR_PROB)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))


def build(seed: int = 0) -> ModelSpec:
    """YOLOX-Nano with weights, BatchNorm statistics and a (1, 3, 416, 416) input from ``seed``."""
    with exactly(seed):
        model = YOLOX()
        x = torch.rand(INPUT_SHAPE) * 255.0
        calibrate_batchnorm(model, x)
    model = to_float32(model).eval()
    x = to_float32(x)
    return ModelSpec(
        module=model,
        inputs=(x,),
        # IREE 3.9 llvm-cpu (host, seeds 0-2): max abs error 0.15 on box coordinates/sizes up to
        # 901 px, 5e-5 on the scores; every element within 3.2e-4 + 5e-3 * |ref| (box sizes are
        # exp() of raw outputs, so their error is relative: <= 4e-4). torch's own float32 forward
        # differs from float64 by as much (0.011 px on centres, 2.6e-4 relative on sizes): the
        # random-weight network amplifies rounding, IREE is as close to float64 as torch is.
        atol=5e-3,
        rtol=5e-3,
        description="YOLOX-Nano (Ge et al. 2021), 416x416 image -> (1, 3549, 85) decoded boxes",
    )
