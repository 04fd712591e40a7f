"""A graph network's message-passing step (issue #69, fourth round): messages along a fixed edge
list summed into their target nodes by `index_add_`. IREE has no `aten.index_add`;
`~fx+decompose` exports it through torch's own decomposition, and `by_hand` sums by `scatter_add`
over the edge targets expanded to the feature width, as the hint says: both match torch."""

import torch
from _factories import seeded

from models.api import ModelSpec


class MessageSum(torch.nn.Module):
    def __init__(self, by_hand=False, nodes=10):
        super().__init__()
        self.by_hand = by_hand
        src = torch.arange(nodes).repeat_interleave(2)
        dst = torch.stack([(torch.arange(nodes) + 1) % nodes, (torch.arange(nodes) + 3) % nodes], 1).flatten()
        self.register_buffer("src", src)
        self.register_buffer("dst", dst)
        self.msg = torch.nn.Linear(8, 8)

    def forward(self, x):  # (nodes, 8)
        m = torch.relu(self.msg(x[self.src]))
        if self.by_hand:
            summed = torch.zeros_like(x).scatter_add(0, self.dst.unsqueeze(1).expand(-1, m.shape[1]), m)
        else:
            summed = torch.zeros_like(x).index_add_(0, self.dst, m)
        return x + summed


def _spec(by_hand):
    return ModelSpec(MessageSum(by_hand).eval(), (torch.randn(10, 8),), atol=1e-5, rtol=1e-4)


build, by_hand = seeded(_spec, build=False, by_hand=True)
