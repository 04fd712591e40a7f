"""A newcomer's RWKV-style block (issue #69, sixth round): a token embedding, LayerNorm, the time
mix (token shift by `F.pad` and slicing, keys/values/receptance, a learned per-channel decay
`exp(-exp(w))` and bonus `u`, the WKV recurrence as an unrolled Python loop over 12 tokens with
its running numerator, denominator and max for stability), then the channel mix (squared ReLU,
sigmoid gate), and a head; outputs the logits over a 40-token vocabulary. `by_hand`: the token
shift padded by the positive amount and sliced, as hint `negative-pad` says (the same values in
torch)."""

import torch
import torch.nn.functional as F
from torch import nn

from models.api import ModelSpec

VOCAB, DIM, SEQ = 40, 32, 12


class TimeMix(nn.Module):
    def __init__(self, by_hand=False):
        super().__init__()
        self.by_hand = by_hand
        self.decay = nn.Parameter(torch.randn(DIM) * 0.5)
        self.bonus = nn.Parameter(torch.randn(DIM) * 0.5)
        self.mix_k = nn.Parameter(torch.rand(DIM))
        self.mix_v = nn.Parameter(torch.rand(DIM))
        self.mix_r = nn.Parameter(torch.rand(DIM))
        self.key, self.value, self.receptance = (nn.Linear(DIM, DIM, bias=False) for _ in range(3))
        self.output = nn.Linear(DIM, DIM, bias=False)

    def forward(self, x):  # (b, T, DIM)
        # token shift: x[t-1], zeros at t = 0
        if self.by_hand:  # hint negative-pad's route
            prev = F.pad(x, (0, 0, 1, 0))[:, :-1]
        else:
            prev = F.pad(x, (0, 0, 1, -1))
        k = self.key(x * self.mix_k + prev * (1 - self.mix_k))
        v = self.value(x * self.mix_v + prev * (1 - self.mix_v))
        r = torch.sigmoid(self.receptance(x * self.mix_r + prev * (1 - self.mix_r)))
        w = -torch.exp(self.decay)
        num = torch.zeros_like(x[:, 0])
        den = torch.zeros_like(x[:, 0])
        big = torch.full_like(x[:, 0], -1e38)
        outs = []
        for t in range(x.shape[1]):
            kt, vt = k[:, t], v[:, t]
            m = torch.maximum(big, self.bonus + kt)
            a, bb = torch.exp(big - m), torch.exp(self.bonus + kt - m)
            outs.append((a * num + bb * vt) / (a * den + bb))
            m2 = torch.maximum(big + w, kt)
            a2, b2 = torch.exp(big + w - m2), torch.exp(kt - m2)
            num, den, big = a2 * num + b2 * vt, a2 * den + b2, m2
        return self.output(r * torch.stack(outs, 1))


class TinyRWKV(nn.Module):
    def __init__(self, by_hand=False):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, DIM)
        self.ln1, self.ln2 = nn.LayerNorm(DIM), nn.LayerNorm(DIM)
        self.time = TimeMix(by_hand)
        self.ck, self.cv = nn.Linear(DIM, 2 * DIM, bias=False), nn.Linear(2 * DIM, DIM, bias=False)
        self.cr = nn.Linear(DIM, DIM, bias=False)
        self.head = nn.Linear(DIM, VOCAB)

    def forward(self, tokens):  # (batch, SEQ) int64
        x = self.embed(tokens)
        x = x + self.time(self.ln1(x))
        h = self.ln2(x)
        x = x + torch.sigmoid(self.cr(h)) * self.cv(torch.relu(self.ck(h)) ** 2)
        return self.head(x)


def build(seed=0, by_hand=False):
    torch.manual_seed(seed)
    tokens = torch.randint(0, VOCAB, (2, SEQ), generator=torch.Generator().manual_seed(seed))
    return ModelSpec(TinyRWKV(by_hand).eval(), (tokens,), atol=1e-4, rtol=1e-4)


def by_hand(seed=0):
    return build(seed, by_hand=True)
