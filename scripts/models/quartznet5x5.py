"""QuartzNet 5x5 acoustic model (CTC encoder + decoder), in plain torch.

Source: S. Kriman et al., "QuartzNet: Deep Automatic Speech Recognition with 1D Time-Channel
Separable Convolutions", ICASSP 2020, arXiv:1910.10261 (Table 1), as implemented by NVIDIA NeMo
(``ConvASREncoder`` / ``JasperBlock`` in ``nemo/collections/asr/parts/submodules/jasper.py`` and
``ConvASRDecoder``) with the QuartzNet config (``examples/asr/conf/quartznet/quartznet_15x5.yaml``,
``separable: true``, ``activation: relu``) reduced to 5x5: each of B1..B5 appears once, with R=5.

Layers (every convolution has no bias except the decoder's; every BatchNorm has eps=1e-3;
"TCS" = time-channel separable = depthwise conv k over time + pointwise 1x1 conv, then BN):

========  =========  ========  ===========  ======  ==========================================
block     kernel     channels  repeat       stride  notes
========  =========  ========  ===========  ======  ==========================================
C1        33         256       1            2       TCS + BN + ReLU, 64 -> 256
B1        33         256       5            1       TCS + BN (+ReLU) x5, residual
B2        39         256       5            1       "
B3        51         512       5            1       " (256 -> 512 in its first sub-block)
B4        63         512       5            1       "
B5        75         512       5            1       "
C2        87         512       1            1       TCS + BN + ReLU, dilation 2
C3        1          1024      1            1       plain 1x1 conv + BN + ReLU
C4        1          29        1            1       decoder: 1x1 conv with bias, log-softmax
========  =========  ========  ===========  ======  ==========================================

Within a residual block, each of the R sub-blocks is TCS conv + BN followed by ReLU, except that
the last sub-block's BN output is first added to the residual branch (pointwise 1x1 conv + BN
of the block input) and then goes through ReLU. Padding is NeMo's "same" padding,
``dilation * (kernel - 1) // 2``. Dropout is 0 in the config (and off in eval) and is omitted.
NeMo's masked convolutions (sequence-length masks) are omitted: with every sequence at full
length the mask is all ones and the outputs are identical.

Parameter count. Counted from this architecture (BatchNorm weight+bias included, running stats
excluded): 6,713,181 = encoder 6,683,456 + decoder 29,725 (1024*29 + 29). The paper reports
"6.7M" for QuartzNet 5x5, so the faithful NeMo layout matches it; the same code with each Bi
repeated three times (QuartzNet 15x5) gives 18,924,381 against the published 18.9M, which
confirms the per-block structure. ``PARAMETERS`` is the exact count of this implementation.

Input: (1, 64, 256) -- batch 1, 64 mel features, 256 frames (2.56 s of audio at NeMo's 10 ms
window stride), drawn from N(0, 1) like NeMo's per-feature-normalised log-mel features. The
length is kept modest so compiling stays fast. C1's stride 2 halves the time axis, so the output
is (1, 128, 29): per-frame log-probabilities over the 28 characters plus the CTC blank (the
decoder's ``log_softmax`` over classes, time-major like NeMo's ``ConvASRDecoder``).

Weights: Xavier-uniform convolutions (NeMo's default ``init_mode``), PyTorch's default bias
init, drawn from ``seed``; BatchNorm layers then get random affine parameters and running
statistics calibrated on a seeded random batch (see ``api.calibrate_batchnorm``).
"""

from __future__ import annotations

from typing import List

import torch
from torch import nn

try:  # imported as ``models.quartznet5x5`` (scripts/ on sys.path) or as a top-level module
    from .api import ModelSpec, calibrated
except ImportError:  # pragma: no cover
    from api import ModelSpec, calibrated  # type: ignore[no-redef]

PARAMETERS = 6_713_181

N_MELS = 64
FRAMES = 256
INPUT_SHAPE = (1, N_MELS, FRAMES)
NUM_CLASSES = 29  # 28 labels (space, a-z, apostrophe) + CTC blank
OUTPUT_FRAMES = FRAMES // 2  # C1 has stride 2

BN_EPS = 1e-3

# (kernel, channels, repeat, stride, dilation, residual, separable) -- NeMo's "jasper:" list
QUARTZNET_5X5 = (
    (33, 256, 1, 2, 1, False, True),  # C1
    (33, 256, 5, 1, 1, True, True),  # B1
    (39, 256, 5, 1, 1, True, True),  # B2
    (51, 512, 5, 1, 1, True, True),  # B3
    (63, 512, 5, 1, 1, True, True),  # B4
    (75, 512, 5, 1, 1, True, True),  # B5
    (87, 512, 1, 1, 2, False, True),  # C2
    (1, 1024, 1, 1, 1, False, False),  # C3
)


def _conv_bn(
    in_ch: int,
    out_ch: int,
    kernel: int,
    stride: int = 1,
    dilation: int = 1,
    separable: bool = False,
) -> List[nn.Module]:
    """NeMo's ``JasperBlock._get_conv_bn_layer``: [depthwise, pointwise | conv] + BatchNorm1d."""
    padding = dilation * (kernel - 1) // 2
    if separable:
        layers: List[nn.Module] = [
            nn.Conv1d(
                in_ch,
                in_ch,
                kernel,
                stride=stride,
                padding=padding,
                dilation=dilation,
                groups=in_ch,
                bias=False,
            ),
            nn.Conv1d(in_ch, out_ch, 1, bias=False),
        ]
    else:
        layers = [
            nn.Conv1d(in_ch, out_ch, kernel, stride=stride, padding=padding, dilation=dilation, bias=False)
        ]
    layers.append(nn.BatchNorm1d(out_ch, eps=BN_EPS, momentum=0.1))
    return layers


class JasperBlock(nn.Module):
    """One QuartzNet block: ``repeat`` (conv, BN) sub-blocks with ReLU, optional residual."""

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel: int,
        repeat: int,
        stride: int,
        dilation: int,
        residual: bool,
        separable: bool,
    ) -> None:
        super().__init__()
        layers: List[nn.Module] = []
        ch = in_ch
        for _ in range(repeat - 1):
            layers.extend(_conv_bn(ch, out_ch, kernel, stride, dilation, separable))
            layers.append(nn.ReLU())
            ch = out_ch
        layers.extend(_conv_bn(ch, out_ch, kernel, stride, dilation, separable))
        self.mconv = nn.Sequential(*layers)
        self.res = nn.Sequential(*_conv_bn(in_ch, out_ch, 1)) if residual else None
        self.mout = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.mconv(x)
        if self.res is not None:
            out = out + self.res(x)
        return self.mout(out)


class QuartzNet(nn.Module):
    """ConvASREncoder + ConvASRDecoder; (B, n_mels, T) features -> (B, T', classes) log-probs."""

    def __init__(self, feat_in: int = N_MELS, num_classes: int = NUM_CLASSES, config=QUARTZNET_5X5):
        super().__init__()
        blocks: List[nn.Module] = []
        ch = feat_in
        for kernel, out_ch, repeat, stride, dilation, residual, separable in config:
            blocks.append(JasperBlock(ch, out_ch, kernel, repeat, stride, dilation, residual, separable))
            ch = out_ch
        self.encoder = nn.Sequential(*blocks)
        self.decoder = nn.Conv1d(ch, num_classes, 1, bias=True)
        for m in self.modules():
            if isinstance(m, nn.Conv1d):
                nn.init.xavier_uniform_(m.weight, gain=1.0)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        encoded = self.encoder(features)
        logits = self.decoder(encoded).transpose(1, 2)
        return nn.functional.log_softmax(logits, dim=-1)


def build(seed: int = 0) -> ModelSpec:
    """QuartzNet 5x5 with weights, BatchNorm statistics and a (1, 64, 256) input from ``seed``."""
    model, x = calibrated(QuartzNet, INPUT_SHAPE, seed)
    return ModelSpec(
        module=model,
        inputs=(x,),
        # IREE 3.9 llvm-cpu (host and generic CPU, seeds 0-2): max abs error 5.8e-5 on
        # log-probabilities of magnitude <= 8.4 (max relative error 2e-5).
        atol=5e-4,
        rtol=1e-4,
        description=(
            "QuartzNet 5x5 (Kriman et al. 2019, NeMo layout), 64 mel x 256 frames -> "
            "(1, 128, 29) CTC log-probabilities"
        ),
    )
