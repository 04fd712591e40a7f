"""A newcomer's keyword spotter (issue #69): MFCC frames -> a 2-layer nn.LSTM -> 12 keywords."""

import torch

from models.api import ModelSpec


class KeywordSpotter(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(input_size=10, hidden_size=48, num_layers=2, batch_first=True)
        self.head = torch.nn.Linear(48, 12)

    def forward(self, mfcc):
        out, _ = self.lstm(mfcc)
        return self.head(out[:, -1])


def build(seed=0):
    torch.manual_seed(seed)
    return ModelSpec(KeywordSpotter().eval(), (torch.randn(1, 49, 10),), atol=1e-5, rtol=1e-4)
