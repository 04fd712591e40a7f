"""Overlapping patches projected and folded back (issue #69, fifth round): `F.unfold` 4x4 patches
with stride 2, a linear map, `F.fold` (col2im) summing them into the image. IREE cannot lower
`aten.col2im`, and its error names only a constant the op takes ("failed to legalize operation
'torch.constant.int'", at no line); `~fx+decompose` exports torch's own decomposition, and `by_hand`
folds by `F.conv_transpose2d` with a one-hot kernel per channel, as the hint says: both match
torch."""

import torch
import torch.nn.functional as F
from _factories import seeded

from models.api import ModelSpec

C, K, S, SIZE = 2, 4, 2, 10
N = (SIZE - K) // S + 1  # patches per row and column


class PatchFold(torch.nn.Module):
    def __init__(self, by_hand=False):
        super().__init__()
        self.by_hand = by_hand
        self.proj = torch.nn.Linear(C * K * K, C * K * K)
        self.register_buffer("eye", torch.eye(K * K).view(K * K, 1, K, K).repeat(C, 1, 1, 1))

    def forward(self, x):  # (batch, C, SIZE, SIZE)
        cols = self.proj(F.unfold(x, K, stride=S).transpose(1, 2)).transpose(1, 2)  # (b, C*K*K, N*N)
        if self.by_hand:
            return F.conv_transpose2d(cols.reshape(x.shape[0], C * K * K, N, N), self.eye, stride=S, groups=C)
        return F.fold(cols, SIZE, K, stride=S)


def _spec(by_hand):
    return ModelSpec(PatchFold(by_hand).eval(), (torch.randn(1, C, SIZE, SIZE),), atol=1e-5, rtol=1e-4)


build, by_hand = seeded(_spec, build=False, by_hand=True)
