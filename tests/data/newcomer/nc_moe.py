"""A newcomer's mixture-of-experts layer (issue #69, fourth round): a router scores 4 experts per
token, `topk` keeps 2 with their `softmax` weights, a one-hot dispatch (`F.one_hot`) and the weights
`scatter`ed into a dense (tokens, experts) gate, every expert (a GELU MLP) run on every token and
combined by the gate (`einsum`), plus an auxiliary `gather` of the chosen scores; two such layers with
LayerNorm and residuals over (1, 16, 32) tokens."""

import torch
from torch import nn
from torch.nn import functional as F

from models.api import ModelSpec


class MoE(nn.Module):
    def __init__(self, dim=32, experts=4, k=2, hidden=32, by_hand=False):
        super().__init__()
        self.k, self.experts, self.by_hand = k, experts, by_hand
        self.norm = nn.LayerNorm(dim)
        self.router = nn.Linear(dim, experts, bias=False)
        self.w1 = nn.Parameter(torch.randn(experts, dim, hidden) / dim**0.5)
        self.w2 = nn.Parameter(torch.randn(experts, hidden, dim) / hidden**0.5)

    def forward(self, x):  # x: (batch, tokens, dim)
        h = self.norm(x)
        logits = self.router(h)
        top, idx = torch.topk(logits, self.k, dim=-1)
        weights = torch.softmax(top, dim=-1)
        one_hot = F.one_hot(idx, self.experts).to(h.dtype)  # (b, t, k, experts)
        if self.by_hand:  # the route docs/failures.md gives for the scatter's crash: a one-hot sum
            gate = (one_hot * weights.unsqueeze(-1)).sum(dim=-2)
        else:
            gate = torch.zeros_like(logits).scatter(-1, idx, weights)  # (b, t, experts)
        chosen = one_hot.sum(dim=-2)  # which experts ran
        hidden = F.gelu(torch.einsum("btd,edh->bteh", h, self.w1))
        out = torch.einsum("bteh,ehd->bted", hidden, self.w2)
        mixed = torch.einsum("bte,bted->btd", gate * chosen, out)
        # the router's own scores of the chosen experts (an auxiliary balance term in training)
        score = torch.gather(torch.softmax(logits, dim=-1), -1, idx).sum(dim=-1, keepdim=True)
        return x + mixed * score


class TinyMoE(nn.Module):
    def __init__(self, dim=32, classes=5, by_hand=False):
        super().__init__()
        self.layers = nn.Sequential(MoE(dim, by_hand=by_hand), MoE(dim, by_hand=by_hand))
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        return self.head(self.layers(x).mean(dim=1))


def build(seed=0):
    torch.manual_seed(seed)
    return ModelSpec(TinyMoE().eval(), (torch.randn(1, 16, 32),), atol=1e-4, rtol=1e-4)


def by_hand(seed=0):
    """The same model (the same weights) with the gate made by a one-hot sum instead of `scatter`."""
    torch.manual_seed(seed)
    return ModelSpec(TinyMoE(by_hand=True).eval(), (torch.randn(1, 16, 32),), atol=1e-4, rtol=1e-4)
