"""wav2vec2's positional convolution, small (issue #69): a grouped Conv1d under weight norm
(`nn.utils.parametrizations.weight_norm(..., dim=2)`, as transformers' Wav2Vec2PositionalConvEmbedding
does), then GELU. `build` as written (IREE has no `aten._weight_norm`); `removed`: the same weights
with the norm folded in by the hint's remedy, `parametrize.remove_parametrizations(conv, "weight")`."""

import torch

from models.api import ModelSpec


class PositionalConv(torch.nn.Module):
    def __init__(self):
        super().__init__()
        conv = torch.nn.Conv1d(32, 32, kernel_size=9, padding=4, groups=4)
        self.conv = torch.nn.utils.parametrizations.weight_norm(conv, name="weight", dim=2)

    def forward(self, x):
        return x + torch.nn.functional.gelu(self.conv(x))


def build(seed=0):
    torch.manual_seed(seed)
    return ModelSpec(PositionalConv().eval(), (torch.randn(1, 32, 50),), atol=1e-5, rtol=1e-4)


def removed(seed=0):
    spec = build(seed)
    torch.nn.utils.parametrize.remove_parametrizations(spec.module.conv, "weight")
    return spec
