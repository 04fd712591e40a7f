"""A newcomer's VQ-VAE (issue #69, sixth round): a strided conv encoder of an 8x16x16 image to a
4x4 grid of 16-d latents, the vector quantizer (the distance of each latent to a 32-entry codebook
by `torch.cdist`, `argmin`, the code looked up with `F.embedding`, the straight-through estimator
`z + (q - z).detach()`, the commitment loss), and a transposed-conv decoder; outputs the
reconstruction, the code indices (int64) and the loss."""

import torch
import torch.nn.functional as F
from torch import nn

from models.api import ModelSpec

CODES, DIM = 32, 16


class TinyVQVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 24, 4, stride=2, padding=1), nn.ReLU(), nn.Conv2d(24, DIM, 4, stride=2, padding=1)
        )
        self.codebook = nn.Parameter(torch.randn(CODES, DIM))
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(DIM, 24, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(24, 3, 4, stride=2, padding=1),
        )

    def forward(self, image):  # (batch, 3, 16, 16)
        z = self.encoder(image)  # (b, DIM, 4, 4)
        b, d, h, w = z.shape
        flat = z.permute(0, 2, 3, 1).reshape(b, h * w, d)
        dist = torch.cdist(flat, self.codebook.unsqueeze(0).expand(b, -1, -1))  # (b, hw, CODES)
        idx = dist.argmin(dim=-1)  # (b, hw)
        q = F.embedding(idx, self.codebook).reshape(b, h, w, d).permute(0, 3, 1, 2)
        loss = F.mse_loss(q.detach(), z) * 0.25 + F.mse_loss(q, z.detach())
        q = z + (q - z).detach()  # straight-through
        return self.decoder(q), idx, loss


def build(seed=0):
    torch.manual_seed(seed)
    image = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(seed))
    return ModelSpec(TinyVQVAE().eval(), (image,), atol=1e-4, rtol=1e-4)
