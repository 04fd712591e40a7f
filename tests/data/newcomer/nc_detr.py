"""A newcomer's DETR-like detector head (issue #69, third round): a conv stem to a 4x4 feature
map, a learned position embedding, two nn.TransformerEncoderLayer (batch_first) in an
nn.TransformerEncoder, then 5 learned object queries reading it through nn.MultiheadAttention,
and class and box heads; (1, 3, 32, 32) in."""

import torch
from torch import nn

from models.api import ModelSpec


class TinyDETR(nn.Module):
    def __init__(self, dim=32, queries=5, classes=4):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(16, dim, 3, stride=4, padding=1)
        )
        self.pos = nn.Parameter(torch.randn(1, 16, dim) * 0.1)
        layer = nn.TransformerEncoderLayer(dim, nhead=4, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.queries = nn.Parameter(torch.randn(1, queries, dim) * 0.1)
        self.cross = nn.MultiheadAttention(dim, num_heads=4, batch_first=True)
        self.cls = nn.Linear(dim, classes + 1)
        self.box = nn.Linear(dim, 4)

    def forward(self, img):
        f = self.stem(img).flatten(2).transpose(1, 2)  # (batch, 16 cells, dim)
        mem = self.encoder(f + self.pos)
        q = self.queries.expand(img.shape[0], -1, -1)
        h, _ = self.cross(q, mem, mem, need_weights=False)
        return self.cls(h), self.box(h).sigmoid()


def build(seed=0):
    torch.manual_seed(seed)
    return ModelSpec(TinyDETR().eval(), (torch.randn(1, 3, 32, 32),), atol=1e-5, rtol=1e-4)
