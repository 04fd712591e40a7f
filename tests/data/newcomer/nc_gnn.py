"""A newcomer's graph network (issue #69, fourth round): message passing over a fixed edge list of
a 24-node ring-plus-chords graph, pure torch (no torch_geometric): per edge a message from the
source node's features and the edge's length, summed into the target by `index_add_`, the in-degree
by `scatter_add`, a max over incoming messages by `scatter_reduce(reduce="amax")`, two GRU-free
update layers, then a mean readout; (24, 8) node features and (E, 1) edge features as inputs."""

import torch
from torch import nn

from models.api import ModelSpec

NODES = 24


def edge_list(n=NODES):
    """A ring both ways plus chords i -> i + 5: every node has an incoming edge (so the amax is
    defined everywhere)."""
    src, dst = [], []
    for i in range(n):
        for j in ((i + 1) % n, (i - 1) % n, (i + 5) % n):
            src.append(i)
            dst.append(j)
    return torch.tensor([src, dst], dtype=torch.int64)


class MessagePassing(nn.Module):
    def __init__(self, dim, edge_dim=1):
        super().__init__()
        self.msg = nn.Sequential(nn.Linear(dim + edge_dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.update = nn.Linear(3 * dim, dim)

    def forward(self, x, edges, edge_attr):
        src, dst = edges[0], edges[1]
        m = self.msg(torch.cat([x[src], edge_attr], dim=-1))
        summed = torch.zeros_like(x).index_add_(0, dst, m)
        degree = torch.zeros(x.shape[0], 1).scatter_add(0, dst.unsqueeze(1), torch.ones_like(m[:, :1]))
        index = dst.unsqueeze(1).expand(-1, m.shape[1])
        biggest = torch.full_like(x, -1e9).scatter_reduce(0, index, m, reduce="amax", include_self=True)
        return torch.relu(self.update(torch.cat([x, summed / degree.clamp(min=1), biggest], dim=-1)))


class TinyGNN(nn.Module):
    def __init__(self, cin=8, dim=32, classes=4):
        super().__init__()
        self.register_buffer("edges", edge_list())
        self.inp = nn.Linear(cin, dim)
        self.layers = nn.ModuleList([MessagePassing(dim), MessagePassing(dim)])
        self.head = nn.Linear(dim, classes)

    def forward(self, x, edge_attr):
        h = torch.relu(self.inp(x))
        for layer in self.layers:
            h = h + layer(h, self.edges, edge_attr)
        return self.head(h.mean(dim=0, keepdim=True))


def build(seed=0):
    torch.manual_seed(seed)
    edges = edge_list().shape[1]
    return ModelSpec(TinyGNN().eval(), (torch.randn(NODES, 8), torch.rand(edges, 1)), atol=1e-4, rtol=1e-4)
