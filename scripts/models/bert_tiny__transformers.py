"""BERT-tiny as Hugging Face transformers builds it: ``BertForSequenceClassification`` (an encoder
and a 2-class head), named ``bert_tiny@transformers``.

Source: transformers 5.23.0, ``models/bert/modeling_bert.py`` (``BertForSequenceClassification``,
``BertModel``, ``BertSelfAttention``); architecture: J. Devlin et al., "BERT", 2018,
arXiv:1810.04805; config: the smallest of Google's 24 compact BERTs, I. Turc et al., "Well-Read
Students Learn Better", 2019, arXiv:1908.08962 (``google/bert_uncased_L-2_H-128_A-2``, on the hub as
``prajjwal1/bert-tiny``: 2 layers, hidden 128, 2 heads, intermediate 512, vocab 30522, 512
positions, 2 token types) as a ``BertConfig``, with ``num_labels=2``. No weights are downloaded.

One function, ``main``: ``input_ids``, ``attention_mask``, ``token_type_ids`` (1, 32) int64 ->
the classification logits (1, 2) and the last encoder layer's hidden states (1, 32, 128) (so that a
wrong attention shows in every position, not only through the pooled first token). The example is
a sentence pair (token types 0 for 12 tokens, 1 for 12) followed by 8 padding tokens that
``attention_mask`` hides, so the export carries the library's padding mask.

Parameters: 4,386,178 = ``BertModel`` 4,385,920 (the compact BERT's "4.4M": embeddings 3,972,864,
2 x 198,272 per layer, pooler 16,512) + the 2-class head 258. Weights: transformers' own
initialisation (``_init_weights``: linear layers and embeddings from N(0, 0.02^2)), drawn from
``seed``, then every LayerNorm's weight from U(0.5, 1.5) and bias from N(0, 0.1^2), so that none is
the identity; all made in float64 inside ``api.exactly`` and rounded to float32 once (the same bytes
on every CPU and thread count). Inputs (from ``seed + 1``): token ids uniform over the vocabulary.

Parameterised for export-recipe searches (issue #50):
``build(seed, attn_implementation, mask_kind)``:

- ``attn_implementation``: ``"sdpa"`` (transformers' default, ``ATTN_IMPLEMENTATION``) or
  ``"eager"`` (the library's ``eager_attention_forward``; the same function in torch).
- ``mask_kind``: ``"2d"`` (the default, ``MASK_KIND``: the (batch, seq) padding mask a tokenizer
  gives, from which transformers' ``masking_utils`` builds the attention mask inside the model)
  or ``"4d"``: the function still takes the (1, 32) mask, and hands the model a boolean
  (batch, 1, query, key) mask made from it (``mask[:, None, None, :].bool().expand(...)``), which
  transformers uses as it is. The same function in torch (the unit tests check it); its export
  has none of ``masking_utils``' ops (``new_ones((), dtype=bool)`` and a vmap'd mask function).

The model has no cache. ``build_model`` returns the bare ``BertForSequenceClassification`` for
recipes that wrap it themselves.
``BertSelfAttention`` passes ``scaling=head_dim ** -0.5`` (here 64 ** -0.5) to the attention
function; with ``sdpa`` that becomes ``scaled_dot_product_attention(..., scale=0.125)``.
"""

from __future__ import annotations

from typing import Tuple

import torch
from torch import nn

try:  # imported as ``models.bert_tiny__transformers`` (scripts/ on sys.path) or top-level
    from .api import ModelSpec, exactly, to_float32
except ImportError:  # pragma: no cover
    from api import ModelSpec, exactly, to_float32  # type: ignore[no-redef]

REQUIREMENTS = ("transformers==5.23.0",)

PARAMETERS = 4_386_178
ENCODER_PARAMETERS = 4_385_920  # BertModel alone: the compact BERT's "4.4M"

HIDDEN_SIZE = 128
NUM_LAYERS = 2
NUM_HEADS = 2
INTERMEDIATE_SIZE = 512
VOCAB_SIZE = 30522
MAX_POSITIONS = 512
TYPE_VOCAB_SIZE = 2
NUM_LABELS = 2

SEQ_LEN = 32
FIRST_SEGMENT, SECOND_SEGMENT = 12, 12  # then SEQ_LEN - 24 = 8 padding tokens

# transformers' default attention for this model; "eager" is the library's other built-in choice
ATTN_IMPLEMENTATION = "sdpa"
# "2d": the padding mask goes to the model as a tokenizer gives it; "4d": as a boolean
# (batch, 1, query, key) mask made by the wrapper (see the module's docstring)
MASK_KIND = "2d"
MASK_KINDS = ("2d", "4d")


def make_config(attn_implementation: str = ATTN_IMPLEMENTATION):
    """BERT-tiny's hyperparameters as a transformers ``BertConfig`` (2 labels)."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=VOCAB_SIZE,
        hidden_size=HIDDEN_SIZE,
        num_hidden_layers=NUM_LAYERS,
        num_attention_heads=NUM_HEADS,
        intermediate_size=INTERMEDIATE_SIZE,
        max_position_embeddings=MAX_POSITIONS,
        type_vocab_size=TYPE_VOCAB_SIZE,
        num_labels=NUM_LABELS,
        attn_implementation=attn_implementation,
    )


class Classify(nn.Module):
    """``main``: token ids, attention mask, token types -> logits (1, 2), last hidden states."""

    def __init__(self, model: nn.Module, mask_kind: str = MASK_KIND) -> None:
        super().__init__()
        self.model = model
        self.mask_kind = mask_kind

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        if self.mask_kind == "4d":  # key j is seen by every query where the padding mask is 1
            n = input_ids.shape[1]
            attention_mask = attention_mask[:, None, None, :].bool().expand(-1, 1, n, n)
        out = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            output_hidden_states=True,
        )
        return out.logits, out.hidden_states[-1]


@torch.no_grad()
def _perturb_norms(model: nn.Module) -> None:
    """Every LayerNorm's weight from U(0.5, 1.5) and bias from N(0, 0.1^2) (transformers' init: 1, 0)."""
    for module in model.modules():
        if isinstance(module, nn.LayerNorm):
            module.weight.uniform_(0.5, 1.5)
            module.bias.normal_(0.0, 0.1)


def _new_model(attn_implementation: str) -> nn.Module:
    from transformers import BertForSequenceClassification

    model = BertForSequenceClassification(make_config(attn_implementation))
    _perturb_norms(model)
    return model.eval()


def build_model(seed: int = 0, attn_implementation: str = ATTN_IMPLEMENTATION) -> nn.Module:
    """``BertForSequenceClassification`` with the BERT-tiny config, weights drawn from ``seed``."""
    with exactly(seed):
        model = _new_model(attn_implementation)
    return to_float32(model)


def example_inputs(seed: int = 0) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``input_ids``, ``attention_mask``, ``token_type_ids`` (1, 32): a sentence pair and padding."""
    used = FIRST_SEGMENT + SECOND_SEGMENT
    with exactly(seed + 1):
        input_ids = torch.randint(0, VOCAB_SIZE, (1, SEQ_LEN), dtype=torch.int64)
    input_ids[0, used:] = 0  # [PAD]
    attention_mask = torch.zeros((1, SEQ_LEN), dtype=torch.int64)
    attention_mask[0, :used] = 1
    token_type_ids = torch.zeros((1, SEQ_LEN), dtype=torch.int64)
    token_type_ids[0, FIRST_SEGMENT:used] = 1
    return input_ids, attention_mask, token_type_ids


def build(
    seed: int = 0, attn_implementation: str = ATTN_IMPLEMENTATION, mask_kind: str = MASK_KIND
) -> ModelSpec:
    """BERT-tiny classifying a padded sentence pair, weights and token ids from ``seed``."""
    if mask_kind not in MASK_KINDS:
        raise ValueError(
            f"bert_tiny@transformers: mask_kind {mask_kind!r} is not one of {', '.join(MASK_KINDS)}"
        )
    module = Classify(build_model(seed, attn_implementation), mask_kind).eval()
    return ModelSpec(
        module=module,
        inputs=example_inputs(seed),
        atol=1e-4,
        rtol=1e-4,
        description=(
            "transformers BertForSequenceClassification (BERT-tiny config: 2 layers, hidden 128), "
            f"a padded sentence pair (1, {SEQ_LEN}) -> logits (1, 2) and last hidden states"
        ),
    )
