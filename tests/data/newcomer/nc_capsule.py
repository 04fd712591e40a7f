"""A newcomer's capsule network (issue #69, sixth round): a conv stem and primary capsules (32
capsules of 8-d from a 1x12x12 image, squashed), prediction vectors to 5 class capsules of 8-d by a
learned transform per route (`einsum`), then dynamic routing by agreement unrolled for 3
iterations (softmax of the route logits over the classes, the weighted sum, `squash`, the agreement
added to the logits); outputs the class capsules' lengths and the class capsules."""

import torch
from torch import nn

from models.api import ModelSpec

PRIMARY, CLASSES, D_IN, D_OUT, ITERS = 32, 5, 8, 8, 3


def squash(s, dim=-1):
    norm2 = (s * s).sum(dim, keepdim=True)
    return norm2 / (1.0 + norm2) * s / torch.sqrt(norm2 + 1e-8)


class TinyCapsNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3), nn.ReLU())  # 12 -> 10
        self.primary = nn.Conv2d(16, 16, 3, stride=3)  # 10 -> 3: 16 channels x 9 positions
        self.to_caps = nn.Linear(16 * 9, PRIMARY * D_IN)
        self.W = nn.Parameter(torch.randn(PRIMARY, CLASSES, D_OUT, D_IN))

    def forward(self, image):  # (batch, 1, 12, 12)
        b = image.shape[0]
        u = squash(self.to_caps(self.primary(self.stem(image)).flatten(1)).view(b, PRIMARY, D_IN))
        u_hat = torch.einsum("pcoi,bpi->bpco", self.W, u)  # (b, PRIMARY, CLASSES, D_OUT)
        logits = torch.zeros(b, PRIMARY, CLASSES, dtype=image.dtype)
        for it in range(ITERS):
            c = torch.softmax(logits, dim=2)
            v = squash((c.unsqueeze(-1) * u_hat).sum(1))  # (b, CLASSES, D_OUT)
            if it < ITERS - 1:
                logits = logits + (u_hat * v.unsqueeze(1)).sum(-1)
        return v.norm(dim=-1), v


def build(seed=0):
    torch.manual_seed(seed)
    image = torch.randn(2, 1, 12, 12, generator=torch.Generator().manual_seed(seed))
    return ModelSpec(TinyCapsNet().eval(), (image,), atol=1e-4, rtol=1e-4)
