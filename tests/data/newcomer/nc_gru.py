"""A newcomer's speech-command model (issue #69, second round): a strided Conv1d front end over
log-mel frames, a bidirectional 1-layer nn.GRU, the mean over time, 10 commands."""

import torch

from models.api import ModelSpec


class SpeechGRU(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.front = torch.nn.Conv1d(20, 32, kernel_size=3, stride=2, padding=1)
        self.gru = torch.nn.GRU(input_size=32, hidden_size=32, batch_first=True, bidirectional=True)
        self.head = torch.nn.Linear(64, 10)

    def forward(self, mel):  # mel: (batch, 20 mels, 50 frames)
        x = torch.relu(self.front(mel)).transpose(1, 2)
        out, _ = self.gru(x)
        return self.head(out.mean(dim=1))


def build(seed=0):
    torch.manual_seed(seed)
    return ModelSpec(SpeechGRU().eval(), (torch.randn(1, 20, 50),), atol=1e-5, rtol=1e-4)
