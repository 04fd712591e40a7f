"""A keyword spotter with a BatchNorm before its LSTM (issue #69, fourth round). The recurrent-op
hint's route, `~fx+gaps`, and `~fx+decompose` left an eval BatchNorm as
`aten._native_batch_norm_legit_no_training`, which IREE does not lower: every model with a
BatchNorm failed both. torch's own decomposition of it now goes with both tables, and both match."""

import torch

from models.api import ModelSpec


class BNLSTM(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv1d(10, 16, 3, padding=1)
        self.norm = torch.nn.BatchNorm1d(16)
        self.lstm = torch.nn.LSTM(16, 16, batch_first=True)
        self.head = torch.nn.Linear(16, 4)

    def forward(self, x):  # (batch, 10 features, time)
        h = torch.relu(self.norm(self.conv(x))).transpose(1, 2)
        out, _ = self.lstm(h)
        return self.head(out[:, -1])


def build(seed=0):
    torch.manual_seed(seed)
    model = BNLSTM().eval()
    with torch.no_grad():  # running statistics away from 0 and 1, so a lost normalisation shows
        model.norm.running_mean.uniform_(-0.5, 0.5)
        model.norm.running_var.uniform_(0.5, 2.0)
    return ModelSpec(model, (torch.randn(1, 10, 20),), atol=1e-5, rtol=1e-4)
