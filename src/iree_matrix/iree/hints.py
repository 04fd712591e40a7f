"""What to do about a failure: the known failure signatures, in the tools' own words, and the step
that gets past each. One table (`HINTS`), read by the report, the site, `query` and a run's summary;
nothing else spells a signature or its advice.

A hint is only ever added to the tool's words, never put in their place: the record keeps what the
tool said, and a failure no signature matches gets no hint rather than a guess. Each entry says
where its advice comes from (`source`): measured here, or the page of docs/ that explains it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any, Optional

from iree_matrix.core.excerpts import first_line
from iree_matrix.iree import versions


def _next_power_of_two(match: re.Match[str]) -> dict[str, str]:
    """The stack limit to try: the next power of two at or above what the function needs."""
    got = int(match["got"])
    return {"suggested": str(1 << max(got - 1, 1).bit_length())}


# An exporter environment with Hugging Face transformers in it (the model's REQUIREMENTS asked for it)
TRANSFORMERS = r"\+transformers"


@dataclasses.dataclass(frozen=True)
class Hint:
    name: str  # a short id: "recurrent-op"
    signature: str  # a regular expression searched in each line of the tool's words
    advice: str  # what to do; `{group}` names a group of the signature's match (or of `fields`)
    source: str  # where the advice comes from: a measurement here or a page of docs/
    stages: tuple[str, ...] = ()  # the stages whose words it is read in; () any stage
    fields: Optional[Callable[[re.Match[str]], dict[str, str]]] = None  # values derived from the match
    # Only for exports made where this expression is found in the exporter environment's name (a
    # record's exporter label, `...+transformers5.23.0` where the model asked for transformers):
    # words as generic as "outputs differ from torch", or an SDPA that fails to legalize (an old
    # compiler on a plain model's 8-operand SDPA), have the cause the advice names only in that
    # library's code. Keyed on what made the export, not on the model's name, so a user's own
    # transformers model gets the hint a built-in one does. None: any exporter.
    exporters: Optional[str] = None
    # Only for compiler releases in this inclusive range (first, last): a cause a release fixed
    releases: Optional[tuple[str, str]] = None
    # The export recipes the advice names, its route first: a run's summary prints the command that
    # runs the failing user's model by them (the advice itself can only say `FILE:FACTORY~RECIPE`)
    recipes: tuple[str, ...] = ()

    def search(self, line: str) -> Optional[re.Match[str]]:
        return re.search(self.signature, line)


HINTS: tuple[Hint, ...] = (
    Hint(
        "recurrent-op",
        r"torch\.aten\.(?P<op>(?:lstm|gru|rnn_tanh|rnn_relu)(?:_cell)?)\b[\w.]*",
        "IREE has no lowering for torch's recurrent op `aten.{op}` (nn.LSTM, nn.GRU, nn.RNN and "
        "their Cell forms): export the model with the recipe `fx+gaps` (`--model FILE:FACTORY~fx+gaps`, "
        "one of those `search-recipes` tries: torch's own decomposition of the recurrence, every other op "
        "as exported), or write the recurrence out of its gates, one time step per loop iteration "
        "(`gates = x[:, t] @ w_ih.t() + h @ w_hh.t() + b`, then sigmoid/tanh: the export unrolls it "
        "into matmuls and elementwise ops, which compile), or use a release where this model passes. "
        "Next known failure: torch's core table alone (`fx+decompose` before it decomposed "
        "`aten.squeeze.dims` too) stops at `torch.aten.squeeze.dims` (hint squeeze-dims)",
        "measured: a 1-layer nn.LSTM, nn.GRU and an nn.LSTMCell loop fail to compile on IREE 3.9.0 "
        "and 3.13.0; the same LSTM written out of its gates (same weights) compiles and matches torch "
        "on both; an nn.LSTM keyword spotter exported `~fx+gaps` compiles and matches torch on 3.13.0 "
        "(tests/integration/test_routes.py; docs/failures.md, 'What to do')",
        stages=("compile", "export"),
        recipes=("fx+gaps",),
    ),
    Hint(
        "weight-norm",
        r"torch\.aten\.(?P<op>_weight_norm(?:_interface)?)\b",
        "IREE has no lowering for `aten.{op}`, torch's weight normalisation "
        "(`nn.utils.parametrizations.weight_norm`, the old `nn.utils.weight_norm`; wav2vec2's, HuBERT's "
        "and many vocoders' convolutions): fold it into the weight before the export, one line per "
        'module, `torch.nn.utils.parametrize.remove_parametrizations(conv, "weight")` '
        "(`torch.nn.utils.remove_weight_norm(conv)` for the old hook; in inference the same function), "
        "or export with the recipe `fx+gaps` or `fx+decompose` (torch's own decomposition: a norm, a "
        "division and a multiplication)",
        "measured: a weight-normed grouped Conv1d (wav2vec2's positional convolution, dim=2) fails to "
        "compile on 3.13.0 at `torch.aten._weight_norm`; with remove_parametrizations it compiles and "
        "matches torch, and so does its `~fx+decompose` export (tests/integration/test_routes.py)",
        stages=("compile", "export"),
        recipes=("fx+gaps", "fx+decompose"),
    ),
    Hint(
        "squeeze-dims",
        r"torch\.aten\.squeeze\.dims\b",
        "IREE's torch lowering squeezes one dim at a time (`aten.squeeze.dim`), not a list of them "
        "(`aten.squeeze.dims`), which torch's core ATen table keeps as a core op, e.g. where it writes "
        "an nn.LSTM out of its gates: export with the recipe `fx+gaps` or `fx+decompose` (iree-matrix's "
        "table adds torch's own decomposition of `squeeze.dims`), or squeeze one dim at a time in the "
        "model (`x.squeeze(d)`) or reshape",
        "measured: an nn.LSTM keyword spotter exported with torch's core table alone fails so on 3.13.0; "
        "with squeeze.dims decomposed too it compiles and matches torch (tests/integration/test_routes.py)",
        stages=("compile",),
        recipes=("fx+gaps", "fx+decompose"),
    ),
    Hint(
        "quantized-op",
        r"torch\.ops\.quantized\.\w+|quantized::\w+|LinearPackedParams",
        "a dynamically quantized model (torch.ao.quantization.quantize_dynamic) holds packed "
        "quantized ops that torch.export cannot trace: export the float model, before quantize_dynamic",
        "measured: quantize_dynamic on nn.Linear fails at export with torch 2.13.0 + iree-turbine "
        "3.9.0, on `torch.ops.quantized.linear_dynamic` (docs/failures.md, 'What to do')",
        stages=("export",),
    ),
    Hint(
        "data-dependent-shape",
        r"[Dd]ata-dependent|GuardOnDataDependentSymNode|Could not extract specialized integer|"
        r"Constraints violated|dynamic shape operator|unbacked symbol",
        "a shape or a branch depends on a tensor's values, which torch.export cannot fix at export "
        "time: give the factory inputs of the shape you will run, and replace value-dependent Python "
        "control flow (`if x.sum() > 0`, sizes from `.item()`, `nonzero`) with fixed sizes, "
        "`torch.where` or `torch.cond`",
        "measured: `if x.sum() > 0:` stops torch.export (torch 2.13.0, turbine 3.9.0) with "
        "'Unsupported: Data-dependent branching', whose own hint is torch.cond",
        stages=("export",),
    ),
    Hint(
        "stack-limit",
        r"exceeded stack allocation limit of (?P<limit>\d+) bytes.*?Got (?P<got>\d+) bytes",
        "a kernel needs more stack than the compiler allows ({got} bytes, the limit is {limit}): compile "
        "with --iree-llvmcpu-stack-allocation-limit={suggested} (a profile's flags; the built-in "
        "`O3-stack` profile sets 1048576)",
        "measured: the Whisper encoder at O2/O3 (docs/measurements.md)",
        stages=("compile",),
        fields=_next_power_of_two,
    ),
    Hint(
        "armv6-fmaf",
        r"undefined symbols? at link:.*\bfmaf\b|undefined symbol: fmaf\b|"
        r"call\(s\) to a function with no code",
        "the ARM1176's VFPv2 has no fused multiply-add, so the kernels call `fmaf`, which IREE's "
        "embedded link leaves without code: compile with the `soft-fmaf` profile (it links a software "
        "fmaf; matrix/arm-soft-fmaf.toml)",
        "measured: QuartzNet and the Llama decode step run and match torch with it (docs/boards.md, 'fmaf')",
    ),
    Hint(
        "armv6-libgcc",
        r"undefined symbols? at link:.*?__aeabi_|undefined symbol: __aeabi_",
        "the kernels call a libgcc helper (`__aeabi_f2lz`: float to int64) that IREE's embedded linker "
        "for 32-bit ARM does not have: keep float-to-integer conversions in int32 (`.to(torch.int32)`), "
        "or run this model on a 64-bit board (it compiles and runs for aarch64)",
        "measured: YOLOX-nano fails to link for armv6 on 3.9.0-3.11.0 and runs on the Pi 4 / Pi 3 "
        "targets (docs/boards.md)",
        stages=("compile",),
    ),
    Hint(
        "armv6-libm",
        r"undefined symbols? at link:.*\b(?P<fn>(?:exp|log|tanh|erf|pow|sin|cos)f)\b",
        "the kernels call libm's `{fn}`, which IREE's embedded link does not have: drop the flag that "
        "keeps math functions as library calls (3.3.0's `native-math` profile); the default "
        "approximations link (with `soft-fmaf` on the Pi Zero)",
        "measured: QuartzNet with native-math on 3.3.0 (docs/boards.md, 'fmaf')",
        stages=("compile",),
    ),
    Hint(
        "bytecode-version",
        r"bytecode version mismatch; runtime supports (?P<runtime>[\d.]+), module has (?P<module>[\d.]+)",
        "a runtime loads modules of its own bytecode version only (it reads {runtime}, the module is "
        "{module}): run the module with its compiler's own release's runtime, or compile it with a "
        "release whose modules this runtime loads (`iree-matrix query load --compiler C --runtime R`)",
        "measured: the published cross of every compiler and runtime (results/COMPATIBILITY.md)",
        stages=("run",),
    ),
    Hint(
        "runtime-abi",
        r"required module '\w+' version mismatch|signature mismatch between module and source|"
        r"required module features .* not available in this runtime|"
        r"executable does not support this version of the runtime",
        "the module was compiled for another runtime release's interfaces: run it with its compiler's "
        "own release's runtime, or compile it with a release whose modules this runtime loads "
        "(`iree-matrix query load --compiler C --runtime R`)",
        "measured: the published cross of every compiler and runtime (results/COMPATIBILITY.md)",
        stages=("run",),
    ),
    Hint(
        "model-timeout",
        r"your model did not return within (?P<seconds>\d+) s, the (?P<stage>[\w-]+) stage's limit",
        "run the model's forward() once on its factory's example inputs in plain Python: one that "
        "waits (for input, a lock, a condition that never changes) never returns, and no limit tells it "
        "from a slow one; a model that is only slow gets longer with `--timeout {stage}=SECONDS` (or "
        "`[timeouts] {stage} = SECONDS` in the matrix file); it is tried again on the next run",
        "measured: a model whose forward() never returns times out its export at the limit ("
        "docs/failures.md, 'A stage's whole process tree ends with it')",
        stages=("export", "peer"),
    ),
    Hint(
        "module-timeout",
        r"your compiled model did not return within (?P<seconds>\d+) s, the run stage's limit",
        "torch ran this model (its export passed), so the module is slow here rather than stuck: a "
        "loaded or emulated machine is many times slower; give it longer with `--timeout run=SECONDS` "
        "(or `[timeouts] run = SECONDS`), or run it by hand (`iree-matrix show JOB --commands`)",
        "measured: the Whisper decoder step takes 12.7 s per call under the Pi 4's emulator, and wall "
        "times of emulated runs at load 18-40 reached 242 s (docs/boards.md)",
        stages=("run",),
    ),
    Hint(
        "stage-timeout",
        r"did not finish within (?P<seconds>\d+) s, the (?P<stage>[\w-]+) stage's limit",
        "give the stage longer with `--timeout {stage}=SECONDS` (or `[timeouts] {stage} = SECONDS` in "
        "the matrix file): a loaded machine is slower at everything; it is tried again on the next run",
        "the stage's limit: docs/matrix-files.md ([timeouts])",
    ),
    Hint(
        "assert-tensor-metadata",
        r"torch\.aten\._assert_tensor_metadata' is unknown",
        "the export holds `aten._assert_tensor_metadata`, which compilers before 3.2.0 do not know: "
        "use a newer compiler release",
        "measured: the transformers models on 2.9.0-3.1.0, past it from 3.2.0 (results/COMPATIBILITY.md)",
        stages=("compile",),
    ),
    Hint(
        "sdpa-scale",
        r"failed to legalize operation 'torch\.aten\.scaled_dot_product_attention'",
        "the export calls `scaled_dot_product_attention` with an explicit `scale=` (transformers' "
        "default `sdpa` attention always passes one: head_dim ** -0.5, or 1.0 where the model scales q "
        "itself); compilers up to 3.10.0 lower only None or 1.0, and 3.11.0 every scale but 1.0: build "
        'the model with `attn_implementation="eager"` (the library\'s matmul-softmax attention, the '
        "same function in torch; a built-in model's recipe `MODEL~eager`), or use a compiler from "
        "3.12.0 on (from 3.11.0 on for a scale other than 1.0)",
        "measured: every transformers family fails so on 3.1.0 and 3.10.0 and the Whisper encoder "
        "(scale 1.0) on 3.11.0; gpt2_tiny@ and vit_tiny@transformers pass from 3.11.0, llama@'s "
        "prefill and the Whisper encoder on 3.12.0 and 3.13.0; with `eager` attention the Whisper "
        "encoder matches on 3.9.0 (docs/models.md, 'transformers')",
        stages=("compile",),
        exporters=TRANSFORMERS,
    ),
    Hint(
        "global-scatter",
        r"write affecting operations on global resources are restricted to workgroup distributed contexts",
        "an in-place write into a tensor the module holds as a whole, typically a static KV cache's "
        "`index_copy_` (`torch.aten.index_put`) into a cache that is zeros or a plain copy of an input: "
        "the llvm-cpu backend cannot distribute that scatter; keep the caches as inputs and outputs "
        "grown by concatenation (transformers' `DynamicCache`, as gpt2_tiny@transformers' decode "
        "does), or make the scatter's destination a computed value (`k_cache + 0`), or export the "
        "built-in llama@/whisper_tiny@transformers as `MODEL~eager+select-cache` (the published recipe: "
        "the cache rows written by a gather and `torch.where`; docs/transformers.md); no release from "
        "3.6.0 to 3.13.0 compiles a `StaticCache` decode step as exported",
        "measured: llama@transformers' and whisper_tiny@transformers' static-cache steps fail so on "
        "3.6.0-3.13.0, gpt2_tiny@transformers' DynamicCache decode compiles, and the `k_cache + 0` "
        "variant of llama's decode compiles and matches torch on 3.9.0 (docs/models.md, 'transformers')",
        stages=("compile",),
    ),
    Hint(
        "bool-literal",
        r"failed to legalize operation 'torch\.vtensor\.literal'.*tensor<i1>",
        "a 0-d boolean constant that IREE's torch lowering leaves illegal, here from transformers' "
        "`masking_utils`, which starts the attention mask it builds from a (batch, seq) padding mask "
        "with `new_ones((), dtype=torch.bool)` (with `eager` attention too): hand the model the mask "
        "already 4-D and boolean, (batch, 1, query, key), `mask[:, None, None, :].bool().expand(-1, 1, "
        'n, n)`, which transformers uses as it is (bert_tiny@transformers\' `mask_kind="4d"`); for a '
        "causal (decoder) model, with the causal triangle in it (hint packed-sequence-diff spells it), or "
        "export with the recipe `fx+decompose`; no release from 3.11.0 to 3.13.0 compiles the library's "
        "own mask",
        "measured: bert_tiny@transformers fails so on 3.11.0-3.13.0 (and with `eager` attention on "
        "3.13.0); with the 4-D mask it compiles and matches torch to 1.2e-6 on 3.11.0, 3.12.0 and "
        "3.13.0 (docs/models.md, 'transformers')",
        stages=("compile",),
        exporters=TRANSFORMERS,
        recipes=("fx+decompose",),
    ),
    Hint(
        "sdpa-scale-ignored",
        r"outputs differ from torch",
        "transformers' `sdpa` attention passes `scale=` to `scaled_dot_product_attention`, and "
        "compilers up to 3.10.0 lower `scale=1.0` (Whisper scales q itself and passes 1.0) as the "
        "default 1/sqrt(head_dim), so q is scaled twice: build the model with "
        '`attn_implementation="eager"`, or use a compiler from 3.12.0 on',
        "measured: whisper_tiny@transformers' encoder differs by about 0.05 on 2.9.0-3.10.0 and "
        "matches on 3.12.0 and 3.13.0; on 3.9.0 IREE's output is torch's with the scale squared, and "
        "with `eager` attention it matches (docs/models.md, 'transformers')",
        stages=("run",),
        exporters=TRANSFORMERS,
        releases=("2.9.0", "3.10.0"),
    ),
    Hint(
        "packed-sequence-diff",
        r"torch\.aten\.diff\b",
        "IREE's torch lowering has no `aten.diff`, and transformers puts one in the export of a model "
        "called with no `attention_mask` and no cache: its `masking_utils` then looks for packed "
        "sequences in the position ids (`find_packed_sequence_indices`: `torch.diff(position_ids, "
        "prepend=...)`), a check whose early exit is skipped while torch.export traces. The route that "
        "compiles: export with the recipe `fx+decompose` (torch's core ATen decompositions spell "
        "`aten.diff` as slices and a subtraction, and the library's boolean mask as ops: "
        "`--model FILE:FACTORY~fx+decompose`), or take the (batch, seq) mask as an input and hand the "
        "model a 4-D boolean (batch, 1, query, key) mask made from it, which transformers uses as it is; "
        "for a causal model with the causal triangle in it, `(mask[:, None, None, :] * (torch.arange(n)"
        "[:, None] >= torch.arange(n)[None, :]).to(mask.dtype)).bool()` (a product: IREE has no "
        "`aten.__and__`). Next known failure: a 2-D `attention_mask` gets past `aten.diff` to "
        "the library's own mask, whose 0-d boolean constant (`torch.vtensor.literal ... tensor<i1>`, "
        "hint bool-literal) no release from 3.11.0 to 3.13.0 compiles; and `fx+gaps` decomposes "
        "`aten.diff` only, so it stops there too",
        "measured: a tiny Qwen2ForCausalLM (transformers 5.23.0) called without a mask fails so on "
        "3.13.0; with a 2-D mask at `torch.vtensor.literal ... tensor<i1>`; with the 4-D causal mask "
        "above it compiles and matches torch (1.8e-7), the same logits as with the 2-D mask in torch; "
        "its `~fx+decompose` export compiles and matches (tests/integration/test_routes.py); read: "
        "transformers' masking_utils.py (`_preprocess_mask_arguments` calls "
        "`find_packed_sequence_indices` when position_ids are given and attention_mask and "
        "past_key_values are None; it returns early only when not tracing)",
        stages=("compile",),
        exporters=TRANSFORMERS,
        recipes=("fx+decompose",),
    ),
    Hint(
        "diff-op",
        r"torch\.aten\.diff\b",
        "IREE's torch lowering has no `aten.diff` (`torch.diff`): export with the recipe `fx+gaps` "
        "(torch's own decomposition: slices, a concatenation and a subtraction; `fx+decompose` does it "
        "too), or write the difference out in the model, `x[..., 1:] - x[..., :-1]` (with `torch.cat` for "
        "`prepend=`)",
        "measured: an attention-mask builder that calls torch.diff fails so on 3.13.0; its `~fx+gaps` "
        "export compiles and matches torch (tests/integration/test_routes.py)",
        stages=("compile",),
        recipes=("fx+gaps",),
    ),
    Hint(
        "affine-grid",
        r"torch\.aten\.affine_grid_generator\b",
        "IREE's torch lowering has no `aten.affine_grid_generator` (`F.affine_grid`, a spatial "
        "transformer's sampling grid), and no export recipe gets past it: build the grid in the model, "
        "`grid = (base @ theta.transpose(1, 2)).view(n, h, w, 2)` with `base` a fixed (h*w, 3) buffer "
        "of pixel centres (x, y, 1), for align_corners=False `xs = (torch.arange(w) * 2 + 1) / w - 1` "
        "(`ys` likewise) and `base = torch.stack((x, y, torch.ones_like(x)), -1).reshape(h * w, 3)` from "
        '`y, x = torch.meshgrid(ys, xs, indexing="ij")`. Next known failure: `F.grid_sample` compiles '
        "but its outputs differ from torch wherever a sample falls outside the image (IREE pads with "
        "zeros whatever `padding_mode` says, and is wrong past [-1, 1]): sample by hand too, bilinear "
        "from four `gather`s of the (n, c, h*w) image at the clamped corners (docs/failures.md, "
        "'affine_grid_generator', spells it out), or keep the grid inside the image with zeros padding",
        "measured: a spatial transformer (affine_grid, then grid_sample with border padding) fails so "
        "on 3.10.0 and 3.13.0 by every recipe `search-recipes` tries (the `fx` routes also split "
        "grid_sample into `aten.grid_sampler_2d`, which IREE does not lower); with the grid by hand it "
        "compiles on 3.13.0 and differs from torch (0.5); with the sampling by hand too it matches "
        "(tests/integration/test_routes.py)",
        stages=("compile",),
    ),
    Hint(
        "cdist",
        r"torch\.aten\.(?:_cdist_forward|cdist)\b",
        "IREE's torch lowering has no `aten.cdist` (`torch.cdist`, pairwise distances, as in a "
        "k-nearest-neighbour search): export with the recipe `fx+decompose` (torch's own "
        "decomposition: broadcast differences, a sum and a square root), or write the distances in the "
        "model, `(a.unsqueeze(-2) - b.unsqueeze(-3)).square().sum(-1)` (then `.sqrt()` for the "
        "Euclidean distance itself; for `topk`/`argsort` of the nearest the squared distances give the "
        "same order)",
        "measured: a point-cloud kNN block (cdist, topk, gather, scatter_add) fails so on 3.10.0 and "
        "3.13.0 by the default export and by `fx`, `fx+gaps` and `nonstrict`; its `~fx+decompose` "
        "export, and the distances written out, compile and match torch on 3.13.0 "
        "(tests/integration/test_routes.py)",
        stages=("compile",),
        recipes=("fx+decompose",),
    ),
    Hint(
        "index-add",
        r"torch\.aten\.(?P<op>index_add_?)(?![\w])",
        "IREE's torch lowering has no `aten.{op}` (`Tensor.index_add_`, a graph network's messages "
        "summed into their target nodes): export with the recipe `fx+decompose` (torch's own "
        "decomposition, a scatter-add), or sum by `scatter_add` in the model, "
        "`torch.zeros_like(x).scatter_add(0, dst.unsqueeze(1).expand(-1, m.shape[1]), m)` for "
        "`torch.zeros_like(x).index_add_(0, dst, m)` (`scatter_reduce` with `amax`/`mean` compiles "
        "as it is)",
        "measured: a message-passing graph network (index_add_, scatter_add, scatter_reduce amax) "
        "fails so on 3.10.0 and 3.13.0 by the default export, `fx`, `fx+gaps` and `nonstrict`; "
        "`~fx+decompose` passes on both (`search-recipes`), and it and the sum by `scatter_add` "
        "compile and match torch on 3.13.0 (tests/integration/test_routes.py)",
        stages=("compile",),
        recipes=("fx+decompose",),
    ),
    Hint(
        "embedding-bag",
        r"torch\.aten\.(?P<op>_?embedding_bag(?:\.padding_idx)?)(?![\w.])",
        "IREE's torch lowering of `aten.{op}` (`nn.EmbeddingBag`, `F.embedding_bag`: a recommender's "
        'pooled sparse features) takes only mode "sum"; "mean" and "max" fail, and no export recipe '
        "gets past them: write those bags out in the model, each id's bag from the offsets, "
        "`bag_of = (arange(n).unsqueeze(1) >= offsets.unsqueeze(0)).sum(1) - 1`, a (bags, ids) mask "
        "`member = bag_of.unsqueeze(0) == arange(len(offsets)).unsqueeze(1)` and `rows = bag.weight[ids]`: "
        "mean `(member.float() @ rows) / member.sum(1, keepdim=True).clamp(min=1)`, max "
        '`rows.unsqueeze(0).masked_fill(~member.unsqueeze(-1), float("-inf")).amax(1)` '
        "(docs/failures.md, 'embedding_bag', spells it out); mode \"sum\" compiles as it is",
        "measured: an nn.EmbeddingBag of mode sum compiles and matches torch on 3.13.0, modes mean and "
        "max fail so; a DLRM-style recommender with one bag of each fails so on 3.10.0 and 3.13.0 by "
        "every recipe `search-recipes` tries; with the mean and max bags written out it compiles and "
        "matches torch on 3.13.0 (tests/integration/test_routes.py)",
        stages=("compile",),
    ),
    Hint(
        "scatter-src-crash",
        r"crashed while lowering torch's AtenScatterSrcOp\b",
        "iree-compile crashes on torch's `scatter` of a tensor (`x.scatter(dim, index, src)`, e.g. a "
        "mixture-of-experts gate `zeros.scatter(-1, topk_idx, topk_weights)`), and no export recipe "
        "gets past it: where the indices along `dim` are distinct (as `topk`'s are) and `x` is zeros, "
        "write it as a one-hot sum, `(F.one_hot(index, n).to(src.dtype) * src.unsqueeze(-1)).sum(-2)` "
        "for `dim=-1` (n = x.shape[-1]), which compiles",
        "measured: a mixture-of-experts layer (topk routing, the gate by `scatter`) crashes so on "
        "3.10.0 and 3.13.0 by every recipe `search-recipes` tries; with the gate as a one-hot sum it "
        "compiles and matches torch on 3.13.0 (tests/integration/test_routes.py)",
        stages=("compile",),
    ),
    Hint(
        "reflect-pad-1d",
        r"'linalg\.generic' op inferred input/output operand #\d+ has shape's dimension #\d+ to be "
        r"greater than or equal to (?P<need>\d+), but found (?P<got>\d+)",
        "IREE's CPU code generation fails on a dispatch that reads its input backwards, measured for a "
        'reflect padding of the last axis by 16 or more (`F.pad(x, (p, p), mode="reflect")` on a '
        "(batch, channels, length) tensor, `nn.ReflectionPad1d`, and `torch.stft(center=True)`, which "
        "pads so by n_fft // 2); the error names the model's op it was lowered from (\"lowered from the "
        "model's torch.aten.pad\"). If it is `torch.aten.pad` or `reflection_pad1d`, pad by slices and "
        "flips, `torch.cat([x[..., 1:p + 1].flip(-1), x, x[..., -p - 1:-1].flip(-1)], -1)`, which "
        "compiles (for stft: that padding, then `torch.stft(..., center=False)`); no export recipe "
        "changes it (the padding is already a core op)",
        "measured: a 1-D reflect padding by 16, 32 or 64 fails so on 3.10.0, 3.12.0 and 3.13.0 (by 3, 9, "
        "12 or 15 it compiles, and 2-D reflect padding by 16 does); an stft audio front end fails so "
        "by the default export and every recipe `search-recipes` tries; the padding by slices and "
        "flips compiles and matches torch on 3.13.0 (tests/integration/test_routes.py)",
        stages=("compile",),
    ),
    Hint(
        "fft",
        r"torch\.aten\.(?P<op>fft_\w+|_fft_c2c|_fft_r2c|_fft_c2r)\b",
        "IREE's torch lowering has no `aten.{op}` (`torch.fft`, e.g. FNet's token mixing), and no "
        "export recipe gets past it (`fx+decompose` stops at `aten._fft_c2c`): for a real input write "
        "the transform as matmuls by fixed DFT matrices, `C = cos(2 pi j k / n)`, `S = sin(2 pi j k / n)` "
        "(buffers built once, `torch.outer(arange(n), arange(n))`): `fft(x).real = x @ C` and "
        "`.imag = -(x @ S)` along the last axis, `rfft` the first n // 2 + 1 columns, and "
        "`fft2(x).real = C_rows @ x @ C_cols - S_rows @ x @ S_cols`",
        "measured: an FNet-style encoder (`torch.fft.fft2(x).real`) fails so on 3.10.0 and 3.13.0 by "
        "every recipe `search-recipes` tries; with the transform as matmuls it compiles and matches "
        "torch on 3.13.0 (tests/integration/test_routes.py)",
        stages=("compile",),
    ),
    Hint(
        "searchsorted",
        r"torch\.aten\.(?P<op>searchsorted)(?:\.\w+)?(?![\w])",
        "IREE's torch lowering has no `aten.{op}` (`torch.searchsorted`, e.g. NeRF's hierarchical "
        "sampling: a CDF inverted at fixed quantiles), and no export recipe gets past it (torch has no "
        "decomposition of it): count instead, over the last axis of both, "
        "`(sorted_seq.unsqueeze(-2) < values.unsqueeze(-1)).sum(-1)` for "
        "`torch.searchsorted(sorted_seq, values)` and `<=` for `right=True` (the same int64 indices; "
        "`torch.bucketize` compiles as it is)",
        "measured: a NeRF-style renderer's hierarchical sampling (cumsum, searchsorted right=True, "
        "gather) fails so on 3.13.0 by the default export and every recipe `search-recipes` tries; "
        "with the count it compiles and matches torch on 3.13.0 (tests/integration/test_routes.py)",
        stages=("compile",),
    ),
    Hint(
        "bool-and",
        r"torch\.aten\.(?P<op>__(?:and|xor)__)\.Tensor\b",
        "IREE's torch lowering has no `aten.{op}.Tensor`, the `&` (`^`) of two boolean tensors as "
        "torch.export keeps it (`inside = (i >= 0) & (i < n)`; their `or` compiles): export with the recipe "
        "`fx+decompose` (torch's own decomposition, `bitwise_and`), or write `torch.logical_and(a, b)` "
        "(`torch.logical_xor` for `^`) in the model",
        "measured: `(x > 0) & (x < 1)` and `(x > 0) ^ (x < -1)` fail so on 3.13.0 (their `or` compiles); a "
        "KAN layer's B-spline basis (bucketize, `&`, one_hot) exported `~fx+decompose`, and with "
        "`torch.logical_and`, compiles and matches torch on 3.13.0 (tests/integration/test_routes.py)",
        stages=("compile",),
        recipes=("fx+decompose",),
    ),
    Hint(
        "unnamed-op",
        # int and bool measured; a published `torch.constant.float` (YOLOX-nano on 2.9.0) is another op's
        r"failed to legalize operation 'torch\.constant\.(?:int|bool)'",
        "the error names a constant, not the op that failed: some torch op that takes this constant "
        "(a dim, a size, a kernel) has no lowering in IREE, and the compiler reports its leftover "
        "operand first, often at no line (`<unknown>:0`). Measured so: `aten.logsumexp` "
        "(`torch.logsumexp`) and `aten.col2im` (`F.fold`, `nn.Fold`); torch's own decompositions "
        "of both compile: export with the recipe `fx+decompose`, or write them out, "
        "`m = x.amax(d, keepdim=True); (x - m).exp().sum(d).log() + m.squeeze(d)` for "
        "`torch.logsumexp(x, d)`, and `F.fold(cols, size, k, stride=s)` as `F.conv_transpose2d(cols.view("
        "b, c * k * k, n_h, n_w), eye, stride=s, groups=c)` with `eye = torch.eye(k * k).view(k * k, 1, "
        "k, k).repeat(c, 1, 1, 1)` (n_h, n_w: the patches per column and row). Which op it is: "
        "`iree-compile model.mlir … --mlir-print-ir-after-failure` prints the function as the failed "
        "pass left it, the torch.aten op still in it",
        "measured: torch.logsumexp, alone and in a linear-chain CRF, and F.fold, alone and in a "
        "local-attention block, fail so on 3.13.0; their `~fx+decompose` exports, and both written out, "
        "compile and match torch on 3.13.0 (tests/integration/test_routes.py)",
        stages=("compile",),
        recipes=("fx+decompose",),
    ),
    Hint(
        "large-vector",
        r"operations with large vector sizes \((?P<bytes>\d+) bytes\) were found",
        "the llvm-cpu backend refuses a dispatch whose code holds a vector this large ({bytes} bytes) "
        "by default; `--iree-llvmcpu-fail-on-large-vector=false` (in every release 2.9.0 to 3.13.0, "
        "`iree-compile --help-hidden`) lets it through, but such dispatches spill the vector to the "
        "stack: run the module on several threads before taking it (a local-task worker has 128 KiB of "
        "stack, `--task_worker_stack_size`), or drop the flag that made the vector (data tiling with the "
        "channels-last preprocessing pipeline made YOLOX-nano's)",
        "measured: YOLOX-nano with data tiling and the channels-last pipeline fails so on 3.13.0 "
        "(a `vector<4x13x16x16xf32>` transpose); with the flag it compiles and matches torch on one "
        "thread, and with kernels/depthwise3x3 swapped in its local-task run crashes at the default "
        "worker stack and runs with 192 KiB (docs/kernels.md, 'YOLOX-nano')",
        stages=("compile",),
    ),
    # The op survey (benchmarks/op_survey.py): one tiny module per common op through iree-compile 3.13.0;
    # each failure with no route yet got a hint whose remedy tests/integration/test_routes.py applies.
    Hint(
        "window-function",
        r"torch\.aten\.(?P<op>(?:hann|hamming|blackman|bartlett|kaiser)_window)\b",
        "IREE's torch lowering has no `aten.{op}` (a window made in `forward`, e.g. "
        "`torch.stft(x, n, window=torch.hann_window(n))`): make the window once in `__init__`, "
        '`self.register_buffer("window", torch.hann_window(n))`, and use `self.window`',
        "measured: a framing front end (`unfold`, then `* torch.hann_window(32)`) fails so on 3.13.0; "
        "with the window as a buffer it compiles and matches torch (tests/integration/test_routes.py)",
        stages=("compile",),
    ),
    Hint(
        "sort-select",
        r"torch\.aten\.(?P<op>median|nanmedian|kthvalue)\b|'tm_tensor\.topk' op region block must end",
        "IREE has no lowering for an order statistic (`torch.median`, `nanmedian`, `kthvalue`; "
        "`kthvalue` fails verifying `tm_tensor.topk`), but `sort` compiles: sort along the dimension "
        "and take the element, `x.sort(dim).values.select(dim, k - 1)` for `kthvalue(x, k, dim)` and "
        "`k - 1 = (n - 1) // 2` for torch's median (the lower of the two middle values); the indices, "
        "where needed, from `.indices` the same way",
        "measured: a median filter (`unfold`, then `.median(-1)`) fails so on 3.13.0, and "
        "`kthvalue` with the `tm_tensor.topk` error; with sort and select it compiles and matches "
        "torch (tests/integration/test_routes.py)",
        stages=("compile",),
    ),
    Hint(
        "linalg-op",
        r"torch\.aten\.(?P<op>_?linalg_(?:inv|solve|cholesky|qr|eig|svd|lu|pinv|lstsq|matrix_exp)\w*"
        r"|inverse|cholesky\w*|triangular_solve|_?svd\w*|pinverse)\b",
        "IREE has no lowering for torch's matrix factorizations and solvers (`aten.{op}`; measured on "
        "3.13.0: inv, solve, cholesky, solve_triangular, qr, eigh, svd fail; `torch.linalg.det` and "
        "`torch.linalg.slogdet` compile, hint det-alias), "
        "and no export recipe gets past them: where the matrix depends on the weights only (a flow's "
        "invertible map, a whitening or precision matrix), compute it once in the factory and keep it "
        'as a buffer, `self.register_buffer("inverse", torch.linalg.inv(W))`, so `forward` is matmuls; '
        "where it depends on the input, keep that step in torch, before or after the compiled module "
        "(for an inverse, a fixed number of Newton-Schulz steps, `X = X @ (2 * I - A @ X)`, compiles)",
        "measured: a flow step run backwards (`torch.linalg.inv` of its weight in `forward`) fails so "
        "on 3.13.0, and `fx+decompose` stops at the importer (\"Higher-order operation 'with_effects'\"); "
        "with the inverse as a buffer it compiles and matches torch (tests/integration/test_routes.py)",
        stages=("compile",),
    ),
    Hint(
        "vdot",
        r"torch\.aten\.vdot\b",
        "IREE's torch lowering has no `aten.vdot`; a model in eval with "
        "`torch.nn.utils.parametrizations.spectral_norm` leaves it (the power iteration's norm): take "
        "the parametrization off once the weights are loaded, "
        '`parametrize.remove_parametrizations(layer, "weight")` (the layer keeps the normalized '
        "weight), or export with the recipe `fx+decompose`; a `vdot` "
        "of your own is `(a * b).sum()`",
        "measured: a GAN critic with spectrally normalized layers fails so on 3.13.0; with the "
        "parametrizations removed, and by `~fx+decompose`, it compiles and matches torch "
        "(tests/integration/test_routes.py)",
        stages=("compile",),
        recipes=("fx+decompose",),
    ),
    Hint(
        "float64",
        r"'arith\.constant' op failed to verify that all of \{value, result\} have same type",
        "this is what a model that computes in float64 gets: iree-compile demotes float64 to float32 "
        "by default and fails verifying the weights' constants; make the model and its example inputs "
        "float32 (`model.float()`, `torch.randn(..., dtype=torch.float32)`), or keep float64 with "
        "`--iree-input-demote-f64-to-f32=false` (a `[profile.NAME]`'s flags, docs/matrix-files.md)",
        "measured: a float64 MLP fails so on 3.13.0 and compiles with "
        "`--iree-input-demote-f64-to-f32=false`; as float32 it compiles and matches torch "
        "(tests/integration/test_routes.py)",
        stages=("compile",),
    ),
    Hint(
        "antialias",
        r"torch\.aten\.(?P<op>_upsample_\w+_aa)\b",
        "IREE has no lowering for an antialiased resize (`aten.{op}`: `F.interpolate(..., "
        "antialias=True)`, torchvision's `Resize` by default), and `fx+decompose` keeps it: resize "
        "without it (`antialias=False`: other numbers, so check the model's accuracy with them), "
        "downsample by an integer factor with `F.avg_pool2d` first, or resize before the model",
        "measured: a model resizing its input down with antialias fails so on 3.13.0 by the default "
        "export and `fx+decompose`; with `antialias=False` it compiles and matches torch "
        "(tests/integration/test_routes.py)",
        stages=("compile",),
    ),
    Hint(
        "negative-pad",
        r"torch\.aten\.(?:pad|constant_pad_nd) with a negative padding",
        "IREE computes a constant padding by a negative amount wrongly (`F.pad(x, (0, 0, 1, -1))`, a "
        "token shift, a crop: one that keeps the size runs and differs from torch, one that shrinks it "
        "fails to compile), and `fx+decompose` keeps it: pad by the positive amounts and slice, "
        "`F.pad(x, (0, 0, 1, 0))[:, :-1]`, or `torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], 1)`",
        "measured: an RWKV-style token shift differs from torch by up to 5.4 on 3.10.0, 3.12.0 and "
        "3.13.0; padded then sliced it matches (tests/integration/test_routes.py)",
        stages=("run",),
    ),
    Hint(
        "det-alias",
        r"torch\.aten\.(?P<op>slogdet|det|logdet|_linalg_slogdet|_linalg_det)\b",
        "IREE lowers `torch.linalg.slogdet` and `torch.linalg.det` but not torch's other spellings of "
        "them (`aten.{op}`: `torch.slogdet`, `torch.det`, `torch.logdet`, `W.slogdet()`), nor the "
        "`aten._linalg_slogdet` that `fx+decompose` makes of each, so no export recipe gets past it: "
        "call `torch.linalg.slogdet(W)` (`.logabsdet`: a Glow 1x1 convolution's log-determinant) or "
        "`torch.linalg.det(W)`, and export the default way; `torch.logdet(W)` of a matrix whose "
        "determinant is positive is `torch.linalg.slogdet(W).logabsdet`",
        "measured: a Glow flow step with `torch.slogdet` of its 1x1 convolution's weight fails so on "
        "3.10.0 and 3.13.0 by every recipe `search-recipes` tries; `torch.det` and `torch.logdet` "
        "alone fail so on 3.13.0; with `torch.linalg.slogdet` it compiles and matches torch "
        "(tests/integration/test_routes.py)",
        stages=("compile",),
    ),
    Hint(
        "det-no-avx2",
        r"torch\.aten\.linalg_(?:slog)?det compiled for a CPU without AVX2",
        "IREE 3.13.0 computes `torch.linalg.slogdet`/`det` wrongly for x86-64 CPUs without AVX2 "
        "(`generic`, `x86-64`, `x86-64-v2`): compile for `x86-64-v3` on, or, for the weights' own matrix "
        '(a flow\'s 1x1 convolution), keep it as a buffer: `register_buffer("logdet", torch.linalg.'
        "slogdet(W).logabsdet)`",
        "measured on 3.13.0: an 8x8 slogdet differs by 6.5 for generic, x86-64, x86-64-v2, matches for "
        "v3, v4, znver5; as a buffer it matches on generic (tests/integration/test_routes.py)",
        stages=("run",),
    ),
)


@dataclasses.dataclass(frozen=True)
class Found:
    """A hint that matched: which, the line of the tool's words it matched, and its advice."""

    hint: Hint
    line: str
    advice: str

    @property
    def name(self) -> str:
        return self.hint.name


def _advice(hint: Hint, match: re.Match[str]) -> str:
    values: dict[str, str] = {k: v for k, v in match.groupdict().items() if v is not None}
    if hint.fields is not None:
        values.update(hint.fields(match))
    return hint.advice.format(**values)  # an advice names only groups its every match has


@dataclasses.dataclass(frozen=True)
class Made:
    """What made the words, as a record's labels say: the exporter environment and the compiler
    release (empty when not known: a hint scoped to either then does not apply)."""

    exporter: str = ""
    compiler: str = ""


UNKNOWN = Made()  # words alone: no exporter- or release-scoped hint applies


def _applies(hint: Hint, stage: Optional[str], made: Made) -> bool:
    if hint.exporters is not None and not re.search(hint.exporters, made.exporter):
        return False  # a hint scoped to an exporter needs the exporter known and one of them
    if hint.releases is not None:
        first, last = (versions.release_order(v) for v in hint.releases)
        if not versions.is_valid(made.compiler) or not first <= versions.release_order(made.compiler) <= last:
            return False
    return not hint.stages or stage is None or stage in hint.stages


def find(text: Optional[str], stage: Optional[str] = None, made: Made = UNKNOWN) -> Optional[Found]:
    """The first hint (in `HINTS`' order) whose signature a line of `text` matches; hints scoped to
    an exporter or to releases (`Hint.exporters`, `Hint.releases`) only when `made` is one of them."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    for hint in HINTS:
        if not _applies(hint, stage, made):
            continue
        for line in lines:
            match = hint.search(line)
            if match:
                return Found(hint, line, _advice(hint, match))
    return None


def words(stage: str, metrics: Optional[Mapping[str, Any]], message: Optional[str]) -> str:
    """Everything a record says about its failure, for matching: the compile stage's first error
    and the op it names (kept whole in the metrics, where the message may have been cut), then the
    message."""
    stored = metrics if isinstance(metrics, Mapping) else {}
    named = ("first_error", "failing_op", "source_op")
    parts = [str(stored[k]) for k in named if isinstance(stored.get(k), str)]
    return "\n".join([*parts, message or ""])


def of_record(
    stage: str, metrics: Optional[Mapping[str, Any]], message: Optional[str], made: Made = UNKNOWN
) -> Optional[Found]:
    """The hint for a stored failure (a record's stage, metrics, message, exporter and compiler),
    or None."""
    return find(words(stage, metrics, message), stage, made)


def telling_line(text: Optional[str], stage: Optional[str] = None) -> str:
    """The one line of a tool's words a person must see: the line a known signature matches, else
    the first line naming an error, else the first line."""
    found = find(text, stage)
    return found.line if found is not None else first_line(text)
