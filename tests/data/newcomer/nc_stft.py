"""A newcomer's audio front end (issue #69, fourth round): `torch.stft` of 0.1 s of 8 kHz audio
(n_fft 128, hop 32, a Hann window, centred with reflect padding), its power, a fixed triangular mel
filterbank (20 bands), log, then a small 2-D CNN over the (20 × 26) log-mel image to 6 classes."""

import torch
from torch import nn

from models.api import ModelSpec

N_FFT, HOP, MELS, RATE = 128, 32, 20, 8000


def mel_filterbank(n_fft=N_FFT, mels=MELS, rate=RATE):
    """Triangular filters evenly spaced on the mel scale, (mels, n_fft // 2 + 1)."""

    def to_mel(f):
        return 2595.0 * torch.log10(1.0 + f / 700.0)

    def to_hz(m):
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    bins = torch.linspace(0, rate / 2, n_fft // 2 + 1)
    edges = to_hz(torch.linspace(to_mel(torch.tensor(0.0)), to_mel(torch.tensor(rate / 2)), mels + 2))
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    return torch.clamp(torch.minimum((bins - lo) / (mid - lo), (hi - bins) / (hi - mid)), min=0.0)


def reflect_pad(x, p):
    """`F.pad(x, (p, p), mode="reflect")` of the last axis by slices and flips (the route
    docs/failures.md gives where IREE's own reflect padding fails to compile)."""
    return torch.cat([x[..., 1 : p + 1].flip(-1), x, x[..., -p - 1 : -1].flip(-1)], dim=-1)


class TinyAudio(nn.Module):
    def __init__(self, classes=6, by_hand=False):
        super().__init__()
        self.by_hand = by_hand
        self.register_buffer("window", torch.hann_window(N_FFT))
        self.register_buffer("mel", mel_filterbank())
        self.cnn = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, classes),
        )  # fmt: skip

    def forward(self, audio):  # audio: (batch, samples)
        if self.by_hand:  # the same centring, the padding written out
            padded = reflect_pad(audio, N_FFT // 2)
            spec = torch.stft(padded, N_FFT, HOP, window=self.window, center=False, return_complex=True)
        else:
            spec = torch.stft(audio, N_FFT, HOP, window=self.window, center=True, return_complex=True)
        power = spec.real.square() + spec.imag.square()  # (batch, freq, frames)
        logmel = torch.log(self.mel @ power + 1e-6)
        return self.cnn(logmel.unsqueeze(1))


def build(seed=0):
    torch.manual_seed(seed)
    return ModelSpec(TinyAudio().eval(), (torch.randn(1, 800),), atol=1e-4, rtol=1e-4)


def by_hand(seed=0):
    """The same model (the same weights) with stft's centring reflect padding written out."""
    torch.manual_seed(seed)
    return ModelSpec(TinyAudio(by_hand=True).eval(), (torch.randn(1, 800),), atol=1e-4, rtol=1e-4)
