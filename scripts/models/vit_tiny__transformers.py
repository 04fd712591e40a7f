"""ViT-Tiny (DeiT-Ti's architecture) as Hugging Face transformers builds it:
``ViTForImageClassification``, named ``vit_tiny@transformers``.

Source: transformers 5.23.0, ``models/vit/modeling_vit.py`` (``ViTForImageClassification``,
``ViTModel``, ``ViTSelfAttention``); architecture: A. Dosovitskiy et al., "An Image is Worth 16x16
Words", 2020, arXiv:2010.11929; config: ViT-Ti as H. Touvron et al., "Training data-efficient image
transformers" (DeiT), 2020, arXiv:2012.12877, Table 1 (hidden 192, 12 layers, 3 heads, MLP 768,
224 x 224 images in 16 x 16 patches; ``facebook/deit-tiny-patch16-224`` is this
``ViTForImageClassification``) as a ``ViTConfig`` with 1000 labels. No weights are downloaded.

One function, ``main``: ``pixel_values`` (1, 3, 224, 224) -> logits (1, 1000) (from the class
token after 12 layers over 197 tokens).

Parameters: 5,717,416 (DeiT-Ti's "5M"; timm counts the same) = embeddings 189,696 (patch
projection 147,648, class token 192, positions 197 x 192 = 37,824) + 12 x 444,864 + final LayerNorm
384 + classifier 193,000. Weights: transformers' own initialisation (``_init_weights``: linear and
convolution weights from a truncated N(0, 0.02^2), positions and class token likewise), drawn from
``seed``, then every LayerNorm's weight from U(0.5, 1.5) and bias from N(0, 0.1^2), so that none is
the identity; all made in float64 inside ``api.exactly`` and rounded to float32 once (the same bytes
on every CPU and thread count). Input (from ``seed + 1``): N(0, 1) pixels (a normalised image).

Parameterised for export-recipe searches (issue #50): ``build(seed, attn_implementation)`` with
``"sdpa"`` (transformers' default, ``ATTN_IMPLEMENTATION``) or ``"eager"`` (the library's
``eager_attention_forward``; the same function in torch). The model has no cache. ``build_model``
returns the bare ``ViTForImageClassification``. ``ViTSelfAttention`` passes
``scaling=head_dim ** -0.5`` (64 ** -0.5) to the attention function; with ``sdpa`` that becomes
``scaled_dot_product_attention(..., scale=0.125)``.
"""

from __future__ import annotations

from typing import Tuple

import torch
from torch import nn

try:  # imported as ``models.vit_tiny__transformers`` (scripts/ on sys.path) or top-level
    from .api import ModelSpec, exactly, to_float32
except ImportError:  # pragma: no cover
    from api import ModelSpec, exactly, to_float32  # type: ignore[no-redef]

REQUIREMENTS = ("transformers==5.23.0",)

PARAMETERS = 5_717_416

HIDDEN_SIZE = 192
NUM_LAYERS = 12
NUM_HEADS = 3
INTERMEDIATE_SIZE = 768
IMAGE_SIZE = 224
PATCH_SIZE = 16
NUM_LABELS = 1000
INPUT_SHAPE = (1, 3, IMAGE_SIZE, IMAGE_SIZE)

# transformers' default attention for this model; "eager" is the library's other built-in choice
ATTN_IMPLEMENTATION = "sdpa"


def make_config(attn_implementation: str = ATTN_IMPLEMENTATION):
    """ViT-Ti's hyperparameters as a transformers ``ViTConfig`` (1000 labels)."""
    from transformers import ViTConfig

    return ViTConfig(
        hidden_size=HIDDEN_SIZE,
        num_hidden_layers=NUM_LAYERS,
        num_attention_heads=NUM_HEADS,
        intermediate_size=INTERMEDIATE_SIZE,
        image_size=IMAGE_SIZE,
        patch_size=PATCH_SIZE,
        num_labels=NUM_LABELS,
        attn_implementation=attn_implementation,
    )


class Classify(nn.Module):
    """``main``: pixels (1, 3, 224, 224) -> logits (1, 1000)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.model(pixel_values=pixel_values).logits


@torch.no_grad()
def _perturb_norms(model: nn.Module) -> None:
    """Every LayerNorm's weight from U(0.5, 1.5) and bias from N(0, 0.1^2) (transformers' init: 1, 0)."""
    for module in model.modules():
        if isinstance(module, nn.LayerNorm):
            module.weight.uniform_(0.5, 1.5)
            module.bias.normal_(0.0, 0.1)


def _new_model(attn_implementation: str) -> nn.Module:
    from transformers import ViTForImageClassification

    model = ViTForImageClassification(make_config(attn_implementation))
    _perturb_norms(model)
    return model.eval()


def build_model(seed: int = 0, attn_implementation: str = ATTN_IMPLEMENTATION) -> nn.Module:
    """``ViTForImageClassification`` with the ViT-Ti config, weights drawn from ``seed``."""
    with exactly(seed):
        model = _new_model(attn_implementation)
    return to_float32(model)


def example_inputs(seed: int = 0) -> Tuple[torch.Tensor]:
    """``pixel_values`` (1, 3, 224, 224) from N(0, 1)."""
    with exactly(seed + 1):
        pixels = torch.randn(INPUT_SHAPE)
    return (to_float32(pixels),)


def build(seed: int = 0, attn_implementation: str = ATTN_IMPLEMENTATION) -> ModelSpec:
    """ViT-Ti classifying one 224 x 224 image, weights and pixels from ``seed``."""
    module = Classify(build_model(seed, attn_implementation)).eval()
    return ModelSpec(
        module=module,
        inputs=example_inputs(seed),
        atol=1e-4,
        rtol=1e-4,
        description=(
            "transformers ViTForImageClassification (ViT-Ti config: 12 layers, hidden 192, "
            "patch 16), (1, 3, 224, 224) -> logits (1, 1000)"
        ),
    )
