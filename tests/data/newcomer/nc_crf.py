"""A newcomer's sequence tagger with a linear-chain CRF (issue #69, fifth round): a token
embedding and two Conv1d layers give emission scores for 6 tags over 10 tokens; the CRF's
learned transitions, the log partition function by the forward algorithm (`torch.logsumexp` over an
unrolled Python loop), and the Viterbi decode (a max and an argmax per step, then the backtrack by
`gather` in reverse); outputs the best tag path (int64), its score and the sequence's
log-likelihood of that path."""

import torch
from torch import nn

from models.api import ModelSpec

VOCAB, DIM, TAGS, SEQ = 50, 24, 6, 10


class TinyCRFTagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, DIM)
        self.conv = nn.Sequential(
            nn.Conv1d(DIM, DIM, 3, padding=1), nn.ReLU(), nn.Conv1d(DIM, TAGS, 3, padding=1)
        )
        self.transitions = nn.Parameter(torch.randn(TAGS, TAGS))
        self.start = nn.Parameter(torch.randn(TAGS))
        self.end = nn.Parameter(torch.randn(TAGS))

    def forward(self, tokens):  # (batch, SEQ) int64
        emissions = self.conv(self.embed(tokens).transpose(1, 2)).transpose(1, 2)  # (b, SEQ, TAGS)
        n = emissions.shape[1]
        # forward algorithm: log Z
        alpha = self.start + emissions[:, 0]
        for t in range(1, n):
            alpha = torch.logsumexp(alpha.unsqueeze(2) + self.transitions, dim=1) + emissions[:, t]
        log_z = torch.logsumexp(alpha + self.end, dim=1)
        # Viterbi
        score = self.start + emissions[:, 0]
        backpointers = []
        for t in range(1, n):
            best, idx = (score.unsqueeze(2) + self.transitions).max(dim=1)
            score = best + emissions[:, t]
            backpointers.append(idx)
        score = score + self.end
        best_score, last = score.max(dim=1, keepdim=True)  # (b, 1)
        path = [last]
        for idx in reversed(backpointers):
            last = idx.gather(1, last)
            path.append(last)
        path = torch.cat(path[::-1], dim=1)  # (b, SEQ)
        return path, best_score.squeeze(1), best_score.squeeze(1) - log_z


def build(seed=0):
    torch.manual_seed(seed)
    tokens = torch.randint(0, VOCAB, (2, SEQ), generator=torch.Generator().manual_seed(seed))
    return ModelSpec(TinyCRFTagger().eval(), (tokens,), atol=1e-4, rtol=1e-4)
