"""An attention-mask builder that calls torch.diff (issue #69): tokens whose position id does not
follow the previous one start a new segment, and attention stays within a segment (packed
sequences, as transformers' masking_utils finds them). IREE has no `aten.diff`; `~fx+gaps` exports
it through torch's own decomposition."""

import torch

from models.api import ModelSpec


class SegmentAttention(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = torch.nn.Linear(16, 48)

    def forward(self, x, position_ids):
        starts = torch.diff(position_ids, prepend=position_ids[:, :1] - 1) != 1
        segment = torch.cumsum(starts.to(torch.int64), dim=-1)
        same = segment[:, :, None] == segment[:, None, :]
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        scores = (q @ k.transpose(-1, -2)) / 4.0
        scores = torch.where(same, scores, torch.full_like(scores, -1e4))
        return scores.softmax(-1) @ v


def build(seed=0):
    torch.manual_seed(seed)
    x = torch.randn(1, 12, 16)
    positions = torch.tensor([[0, 1, 2, 3, 0, 1, 2, 0, 1, 2, 3, 4]])
    return ModelSpec(SegmentAttention().eval(), (x, positions), atol=1e-5, rtol=1e-4)
