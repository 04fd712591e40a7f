"""Weights an op takes inside a list (issue #69, fourth round): `torch.einsum` of a parameter (a
mixture of experts' expert weights), and an index by two buffers (a recommender's pairwise
interactions, `t[:, rows, cols]`). The fx routes' importer freezes both to tensor literals it could
not put in a list ("Heterogeneous lists are not supported"), a failure of the harness's import; each
is now taken through a copy, and `~fx` and `~fx+gaps` match torch."""

import torch

from models.api import ModelSpec


class Listed(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(3, 8, 8) / 8**0.5)
        rows, cols = torch.triu_indices(3, 3, offset=1)
        self.register_buffer("rows", rows)
        self.register_buffer("cols", cols)

    def forward(self, x):  # (batch, 8)
        per_expert = torch.einsum("bd,edh->beh", x, self.w)  # (batch, 3, 8)
        dots = torch.bmm(per_expert, per_expert.transpose(1, 2))[:, self.rows, self.cols]
        return torch.cat([per_expert.sum(1), dots], dim=1)


def build(seed=0):
    torch.manual_seed(seed)
    return ModelSpec(Listed().eval(), (torch.randn(2, 8),), atol=1e-5, rtol=1e-4)
