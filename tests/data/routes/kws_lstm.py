"""A keyword spotter with an nn.LSTM (issue #69): MFCC frames -> an LSTM -> 12 keyword logits.
IREE has no lowering for `aten.lstm`; the recipes `~fx+gaps` and `~fx+decompose` export it through
torch's own decomposition of the recurrence (tests/integration/test_routes.py)."""

import torch

from models.api import ModelSpec


class KeywordSpotter(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(10, 32, batch_first=True)
        self.head = torch.nn.Linear(32, 12)

    def forward(self, frames):
        out, _ = self.lstm(frames)
        return self.head(out[:, -1])


def build(seed=0):
    torch.manual_seed(seed)
    return ModelSpec(KeywordSpotter().eval(), (torch.randn(1, 25, 10),), atol=1e-5, rtol=1e-4)
