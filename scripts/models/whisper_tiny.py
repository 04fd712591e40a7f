"""Whisper tiny (multilingual): an audio encoder and one static-KV-cache decoder step.

Source: A. Radford, J. W. Kim, T. Xu, G. Brockman, C. McLeavey, I. Sutskever, "Robust Speech
Recognition via Large-Scale Weak Supervision", 2022, arXiv:2212.04356, as implemented in
openai/whisper's ``whisper/model.py`` with the "tiny" ``ModelDimensions``: n_mels 80,
n_audio_ctx 1500, n_audio_state 384, n_audio_head 6, n_audio_layer 4, n_vocab 51865,
n_text_ctx 448, n_text_state 384, n_text_head 6, n_text_layer 4. Written here in plain torch;
module names mirror openai's (``encoder.blocks.N.attn.query``, ``decoder.token_embedding``,
``decoder.blocks.N.cross_attn`` ...): the ``encoder`` function's state dict is exactly the
``encoder.*`` entries of an openai checkpoint's ``model_state_dict`` (including the sinusoid
buffer ``encoder.positional_embedding``) and the ``decoder_step`` function's exactly the
``decoder.*`` entries, so each half loads with ``strict=True``.

Architecture. Encoder: Conv1d(80, 384, 3, pad 1) + GELU, Conv1d(384, 384, 3, stride 2, pad 1) +
GELU, plus the fixed sinusoidal positional embedding (a buffer), 4 pre-LayerNorm residual blocks
(6-head self-attention; MLP 384 -> 1536 -> 384 with exact GELU), final LayerNorm. Decoder:
token embedding + learned positional embedding (448 x 384), 4 blocks of causal self-attention,
cross-attention over the encoder output and MLP, final LayerNorm, logits = x @
token_embedding.weight^T (the output projection is tied to the token embedding). In every
attention the key projection has no bias; attention is softmax(q k^T / sqrt(64)) v, computed
with ``F.scaled_dot_product_attention`` as openai's ``qkv_attention`` does when SDPA is
available (mathematically the same as its fallback, which scales q and k by 64^-0.25 each).
Checked against Hugging Face transformers' ``WhisperForConditionalGeneration`` with the same
weights: encoder features and decoder logits equal within 2e-6.

Functions (``build()`` returns both, each exported as its own "main"):

``encoder``: log-mel (1, 80, 3000) -> audio features (1, 1500, 384); openai's
``AudioEncoder.forward`` unchanged.

``decoder_step``: one decoder step with a static self-attention KV cache, the formulation static-
shape deployments use (fixed-size caches passed in and returned, a masked write at the current
position, an attention mask over later positions; no data-dependent shapes). Inputs:
``token`` (1, 1) int64, ``position`` (1,) int64 (0 <= position < 448), ``k_cache`` and
``v_cache`` (4, 1, 448, 384) -- per decoder layer, the self-attention key and value projections
(before the head split) of the tokens at positions 0..position-1; rows at and after ``position``
are ignored -- and ``audio_features`` (1, 1500, 384), the encoder output. Outputs: logits
(1, 1, 51865) and the updated caches (4, 1, 448, 384) with row ``position`` written. Layer i's
new key and value rows are written with a one-row ``index_put`` at ``[i, 0, position]`` of the
stacked cache (the functional form of ``cache[i, :, position] = k``), and the self-attention adds
-inf to the scores of positions > ``position`` through a (1, 1, 1, 448) mask.
Cross-attention keys and values are recomputed from ``audio_features`` in every step (openai's
``kv_cache`` hooks compute them once, at the first step, and reuse them): this keeps the
function's interface to the encoder output itself, at a price -- the 2 x 4 projections of 1500
frames are about 1.77 G multiply-adds, some 50 times the rest of the step (about 34 M, a third
of it the 51865 x 384 logits product), so this function's latency is dominated by those GEMMs.

How the two compose (the generate loop is Python control flow and is not exported)::

    audio = encoder(mel)                                  # once per 30 s window
    k = v = zeros(4, 1, 448, 384); token = <|startoftranscript|>
    for pos in range(448):
        logits, k, v = decoder_step(token, pos, k, v, audio)
        token = argmax(logits[0, -1])                     # (prompt tokens are forced first)
        if token == <|endoftext|>: break

``decoder_step`` at position p gives exactly row p of the full (non-cached) decoder forward
over tokens 0..p (:meth:`TextDecoder.forward`, openai's; the unit tests check this).

Two formulations that IREE 3.9.0 (llvm-cpu) does not compile, avoided here on purpose:
writing a row into a slice of the cache argument, ``k_cache[i].index_copy(1, position, k)``
(what Hugging Face's ``StaticCache.update`` does per layer), fails with "'linalg.generic' op
write affecting operations on global resources are restricted to workgroup distributed
contexts" / "'func.func' op failed on workgroup distribution verification" -- the write into the
stacked (4, ...) tensor compiles; and ``scaled_dot_product_attention`` with a rank-2 (1, 448)
mask fails with "'tensor.collapse_shape' op expected the expanded type, 'tensor<1x448xf32>' to
have a higher (or same) rank than the collapsed type, 'tensor<1x1x448xf32>'", a rank-3 one with
"'tm_tensor.attention' op query and mask batch dimension mismatch" -- a rank-4 mask compiles.

Parameter count. Counted from this implementation (the tied embedding once, the encoder's
sinusoidal positional embedding a buffer as in openai's code): 37,184,640 = encoder 7,632,384 +
decoder 29,552,256 (of which the token embedding is 19,916,160). ``encoder`` alone has the
encoder's parameters, ``decoder_step`` alone the decoder's; ``PARAMETERS`` is the whole model.
OpenAI's README lists "39 M" for tiny; Hugging Face's ``WhisperForConditionalGeneration`` for
openai/whisper-tiny counts 37,760,640 ("37.8M") because it stores the encoder's fixed
1500 x 384 sinusoids as an ``nn.Embedding`` parameter (576,000 more, frozen); the trainable
count is the same 37,184,640.

Weights: PyTorch's default initialisation of the linear and convolution layers (openai's code
defines no initialisation of its own; checkpoints supply the weights), the token and text
positional embeddings from N(0, 0.02^2) (Hugging Face's ``init_std``), every LayerNorm's weight
from U(0.5, 1.5) and bias from N(0, 0.1^2) so that none is the identity, all drawn from
``seed``. Example inputs: ``encoder`` gets a fake normalised log-mel drawn from U(-1, 1) (the
range of ``whisper.log_mel_spectrogram``'s output); ``decoder_step`` gets audio features drawn
from N(0, 1), the caches after forcing the prompt <|startoftranscript|> <|en|> <|transcribe|>
at positions 0-2 (rows 3.. hold N(0, 1) garbage, which the mask must hide), token
<|notimestamps|> and position 3.
"""

from __future__ import annotations

import math
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

try:  # imported as ``models.whisper_tiny`` (scripts/ on sys.path) or as a top-level module
    from .api import ModelSpec, exactly, to_float32
except ImportError:  # pragma: no cover
    from api import ModelSpec, exactly, to_float32  # type: ignore[no-redef]

PARAMETERS = 37_184_640
FUNCTIONS = ("encoder", "decoder_step")
ENCODER_PARAMETERS = 7_632_384
DECODER_PARAMETERS = 29_552_256

N_MELS = 80
N_AUDIO_CTX = 1500
N_AUDIO_STATE = 384
N_AUDIO_HEAD = 6
N_AUDIO_LAYER = 4
N_VOCAB = 51865
N_TEXT_CTX = 448
N_TEXT_STATE = 384
N_TEXT_HEAD = 6
N_TEXT_LAYER = 4

N_FRAMES = 2 * N_AUDIO_CTX  # 3000 mel frames = 30 s at a 10 ms hop
MEL_SHAPE = (1, N_MELS, N_FRAMES)
CACHE_SHAPE = (N_TEXT_LAYER, 1, N_TEXT_CTX, N_TEXT_STATE)

# multilingual tokenizer special tokens
SOT, EN, TRANSCRIBE, NO_TIMESTAMPS, EOT = 50258, 50259, 50359, 50363, 50257
PROMPT = (SOT, EN, TRANSCRIBE)
EXAMPLE_TOKEN = NO_TIMESTAMPS
EXAMPLE_POSITION = len(PROMPT)  # 3


def sinusoids(length: int, channels: int, max_timescale: float = 10000.0) -> torch.Tensor:
    """Sinusoids for the encoder's positional embedding (openai's ``sinusoids``)."""
    assert channels % 2 == 0
    log_timescale_increment = math.log(max_timescale) / (channels // 2 - 1)
    # in the default dtype: float32 as openai's, float64 inside api.exactly (the same on every CPU)
    inv_timescales = torch.exp(-log_timescale_increment * torch.arange(channels // 2))
    scaled_time = torch.arange(length)[:, None] * inv_timescales[None, :]
    return torch.cat([torch.sin(scaled_time), torch.cos(scaled_time)], dim=1)


class MultiHeadAttention(nn.Module):
    def __init__(self, n_state: int, n_head: int) -> None:
        super().__init__()
        self.n_head = n_head
        self.query = nn.Linear(n_state, n_state)
        self.key = nn.Linear(n_state, n_state, bias=False)
        self.value = nn.Linear(n_state, n_state)
        self.out = nn.Linear(n_state, n_state)

    def forward(
        self, x: torch.Tensor, xa: Optional[torch.Tensor] = None, causal: bool = False
    ) -> torch.Tensor:
        src = x if xa is None else xa
        return self.out(self.qkv_attention(self.query(x), self.key(src), self.value(src), causal=causal))

    def qkv_attention(
        self,
        q: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        causal: bool = False,
        mask: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """(B, Tq, C) x (B, Tk, C) -> (B, Tq, C); ``mask`` is additive, broadcast to (B, H, Tq, Tk)."""
        q = q.view(*q.shape[:2], self.n_head, -1).permute(0, 2, 1, 3)
        k = k.view(*k.shape[:2], self.n_head, -1).permute(0, 2, 1, 3)
        v = v.view(*v.shape[:2], self.n_head, -1).permute(0, 2, 1, 3)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal and q.shape[2] > 1)
        return a.permute(0, 2, 1, 3).flatten(start_dim=2)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, n_state: int, n_head: int, cross_attention: bool = False) -> None:
        super().__init__()
        self.attn = MultiHeadAttention(n_state, n_head)
        self.attn_ln = nn.LayerNorm(n_state)
        self.cross_attn = MultiHeadAttention(n_state, n_head) if cross_attention else None
        self.cross_attn_ln = nn.LayerNorm(n_state) if cross_attention else None
        n_mlp = n_state * 4
        self.mlp = nn.Sequential(nn.Linear(n_state, n_mlp), nn.GELU(), nn.Linear(n_mlp, n_state))
        self.mlp_ln = nn.LayerNorm(n_state)

    def forward(
        self, x: torch.Tensor, xa: Optional[torch.Tensor] = None, causal: bool = False
    ) -> torch.Tensor:
        x = x + self.attn(self.attn_ln(x), causal=causal)
        if self.cross_attn is not None and self.cross_attn_ln is not None:
            x = x + self.cross_attn(self.cross_attn_ln(x), xa)
        return x + self.mlp(self.mlp_ln(x))


class AudioEncoder(nn.Module):
    """openai's ``AudioEncoder``: log-mel (B, 80, 3000) -> audio features (B, 1500, 384)."""

    def __init__(
        self,
        n_mels: int = N_MELS,
        n_ctx: int = N_AUDIO_CTX,
        n_state: int = N_AUDIO_STATE,
        n_head: int = N_AUDIO_HEAD,
        n_layer: int = N_AUDIO_LAYER,
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(n_mels, n_state, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(n_state, n_state, kernel_size=3, stride=2, padding=1)
        self.register_buffer("positional_embedding", sinusoids(n_ctx, n_state))
        self.blocks = nn.ModuleList([ResidualAttentionBlock(n_state, n_head) for _ in range(n_layer)])
        self.ln_post = nn.LayerNorm(n_state)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.gelu(self.conv1(x))
        x = F.gelu(self.conv2(x))
        x = x.permute(0, 2, 1)
        assert x.shape[1:] == self.positional_embedding.shape, "incorrect audio shape"
        x = x + self.positional_embedding
        for block in self.blocks:
            x = block(x)
        return self.ln_post(x)


class TextDecoder(nn.Module):
    """openai's ``TextDecoder``; ``forward`` is the full (non-cached) causal pass over tokens."""

    def __init__(
        self,
        n_vocab: int = N_VOCAB,
        n_ctx: int = N_TEXT_CTX,
        n_state: int = N_TEXT_STATE,
        n_head: int = N_TEXT_HEAD,
        n_layer: int = N_TEXT_LAYER,
    ) -> None:
        super().__init__()
        self.token_embedding = nn.Embedding(n_vocab, n_state)
        self.positional_embedding = nn.Parameter(torch.empty(n_ctx, n_state))
        self.blocks = nn.ModuleList(
            [ResidualAttentionBlock(n_state, n_head, cross_attention=True) for _ in range(n_layer)]
        )
        self.ln = nn.LayerNorm(n_state)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.ln(x) @ self.token_embedding.weight.t()

    def forward(self, tokens: torch.Tensor, xa: torch.Tensor) -> torch.Tensor:
        """tokens (B, T) int64, audio features (B, 1500, 384) -> logits (B, T, n_vocab)."""
        x = self.token_embedding(tokens) + self.positional_embedding[: tokens.shape[-1]]
        for block in self.blocks:
            x = block(x, xa, causal=True)
        return self.logits(x)


def write_cache_row(
    cache: torch.Tensor, layer: int, position: torch.Tensor, row: torch.Tensor
) -> torch.Tensor:
    """``cache[layer, 0, position] = row`` without mutating ``cache``: a one-row ``index_put``."""
    index = (torch.full_like(position, layer), torch.zeros_like(position), position)
    return cache.index_put(index, row)


class Encoder(nn.Module):
    """The ``encoder`` function: ``AudioEncoder`` under the name ``encoder``, so that its state
    dict is the ``encoder.*`` part of an openai checkpoint's."""

    def __init__(self, encoder: AudioEncoder) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.encoder(mel)


class DecoderStep(nn.Module):
    """The ``decoder_step`` function: one token through the decoder with a static KV cache; its
    state dict is the ``decoder.*`` part of an openai checkpoint's."""

    def __init__(self, decoder: TextDecoder) -> None:
        super().__init__()
        self.decoder = decoder
        n_ctx = decoder.positional_embedding.shape[0]
        self.register_buffer("positions", torch.arange(n_ctx), persistent=False)

    def forward(
        self,
        token: torch.Tensor,
        position: torch.Tensor,
        k_cache: torch.Tensor,
        v_cache: torch.Tensor,
        audio_features: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        dec = self.decoder
        position = position.reshape(1)
        x = dec.token_embedding(token) + dec.positional_embedding.index_select(0, position)  # (1, 1, C)
        # additive mask over the cache rows, 0 up to and including ``position`` and -inf after it, of
        # rank 4 (1, 1, 1, n_ctx): IREE 3.9 fails to compile an SDPA with a rank-2 or rank-3 mask
        future = (self.positions > position).view(1, 1, 1, -1)
        mask = torch.zeros(future.shape, dtype=x.dtype).masked_fill(future, float("-inf"))
        for i, block in enumerate(dec.blocks):
            attn = block.attn
            h = block.attn_ln(x)
            # one-row writes into the stacked cache; writing into a slice ``k_cache[i]`` instead
            # does not compile with IREE 3.9 (see the module docstring)
            k_cache = write_cache_row(k_cache, i, position, attn.key(h)[0])
            v_cache = write_cache_row(v_cache, i, position, attn.value(h)[0])
            q = attn.query(h)
            x = x + attn.out(attn.qkv_attention(q, k_cache[i], v_cache[i], mask=mask))
            x = x + block.cross_attn(block.cross_attn_ln(x), audio_features)
            x = x + block.mlp(block.mlp_ln(x))
        return dec.logits(x), k_cache, v_cache


class Whisper(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = AudioEncoder()
        self.decoder = TextDecoder()

    def forward(self, mel: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        return self.decoder(tokens, self.encoder(mel))


@torch.no_grad()
def _init_weights(model: Whisper) -> None:
    for m in model.modules():
        if isinstance(m, nn.LayerNorm):
            m.weight.uniform_(0.5, 1.5)
            m.bias.normal_(0.0, 0.1)
    model.decoder.token_embedding.weight.normal_(0.0, 0.02)
    model.decoder.positional_embedding.normal_(0.0, 0.02)


def build(seed: int = 0) -> Dict[str, ModelSpec]:
    """{"encoder", "decoder_step"} with weights and example inputs from ``seed``."""
    with exactly(seed):  # the weights, and the caches the prompt's steps fill, from the seed alone
        model = Whisper()
        _init_weights(model)
        model.eval()
        mel = torch.rand(MEL_SHAPE) * 2.0 - 1.0
        audio = torch.randn(1, N_AUDIO_CTX, N_AUDIO_STATE)
        k_cache = torch.randn(CACHE_SHAPE)
        v_cache = torch.randn(CACHE_SHAPE)
        step = DecoderStep(model.decoder).eval()
        with torch.no_grad():
            for pos, token in enumerate(PROMPT):
                _, k_cache, v_cache = step(
                    torch.tensor([[token]]), torch.tensor([pos]), k_cache, v_cache, audio
                )
    to_float32(model)
    to_float32(step)
    mel, audio, k_cache, v_cache = to_float32((mel, audio, k_cache, v_cache))
    token = torch.tensor([[EXAMPLE_TOKEN]], dtype=torch.int64)
    position = torch.tensor([EXAMPLE_POSITION], dtype=torch.int64)
    return {
        "encoder": ModelSpec(
            module=Encoder(model.encoder).eval(),
            inputs=(mel,),
            # IREE 3.9 llvm-cpu (host, seeds 0-2): max abs error 4.9e-6 on features of magnitude
            # <= 5.5; every element within 3.2e-6 + 1e-4 * |ref|.
            atol=5e-5,
            rtol=1e-4,
            description="Whisper tiny encoder (Radford et al. 2022), log-mel (1, 80, 3000) -> (1, 1500, 384)",
        ),
        "decoder_step": ModelSpec(
            module=step,
            inputs=(token, position, k_cache, v_cache, audio),
            # IREE 3.9 llvm-cpu (host, seeds 0-2): max abs error 2.4e-6 on logits of magnitude
            # <= 1.8 and on the caches' new rows; every element within 1.1e-6 + 1e-4 * |ref|.
            atol=2e-5,
            rtol=1e-4,
            description=(
                "Whisper tiny decoder, one step with a static (4, 1, 448, 384) self-attention KV cache "
                "-> logits (1, 1, 51865) and updated caches"
            ),
        ),
    }
