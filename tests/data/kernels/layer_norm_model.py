"""kernels/layer_norm's test model: two nn.LayerNorm over the last axis, one of torch's default eps
(1e-5: the kernel's `replaces = { op = "aten.layer_norm", eps = 1e-5 }` takes it) and one of eps 1e-6
(a ViT's: left to IREE, the C computes with 1e-5), each with a weight and bias that are not the
identity's, around a Linear; rows offset from zero so that the mean matters."""

import torch

from models.api import ModelSpec


class Norms(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.norm = torch.nn.LayerNorm(48)
        self.fc = torch.nn.Linear(48, 40)
        self.other = torch.nn.LayerNorm(40, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.other(self.fc(self.norm(x)))


def layer_norms(seed: int = 0) -> ModelSpec:
    torch.manual_seed(seed)
    model = Norms().eval()
    with torch.no_grad():
        for norm in (model.norm, model.other):
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.uniform_(-0.5, 0.5)
    x = torch.randn(2, 6, 48, generator=torch.Generator().manual_seed(seed)) * 3 + 2
    return ModelSpec(model, (x,), atol=1e-4, rtol=1e-4)
