"""What to do about a failure: the known failure signatures, in the tools' own words, and the step that
gets past each (`HINTS`, the one table the report, the site, `query` and a run's summary read). A hint is
only added to the tool's words, never put in their place, and a failure no signature matches gets none."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any, Optional

from iree_matrix.core.excerpts import first_line
from iree_matrix.core.model.results import Record
from iree_matrix.iree import op_hints, versions
from iree_matrix.iree.hint_types import CLAIM, Hint


def _next_power_of_two(match: re.Match[str]) -> dict[str, str]:
    """The stack limit to try: the next power of two at or above what the function needs, and the
    built-in profile that sets at least that much (`stack-1m`: 1 MiB), if one does."""
    suggested = 1 << max(int(match["got"]) - 1, 1).bit_length()
    return {"suggested": str(suggested), "profile": "stack-1m" if suggested <= 1 << 20 else ""}


# An exporter environment with Hugging Face transformers in it (the model's REQUIREMENTS asked for it)
TRANSFORMERS = r"\+transformers"


_GENERAL: tuple[Hint, ...] = (
    Hint(
        "recurrent-op",
        r"torch\.aten\.(?P<op>(?:lstm|gru|rnn_tanh|rnn_relu)(?:_cell)?)\b[\w.]*",
        "IREE has no lowering for torch's recurrent op `aten.{op}` (nn.LSTM, nn.GRU, nn.RNN and "
        "their Cell forms): export the model with the recipe `fx+gaps` (`--model FILE:FACTORY~fx+gaps`, "
        "one of those `search-recipes` tries: torch's own decomposition of the recurrence, every other op "
        "as exported), or write the recurrence out of its gates, one time step per loop iteration "
        "(`gates = x[:, t] @ w_ih.t() + h @ w_hh.t() + b`, then sigmoid/tanh: the export unrolls it "
        "into matmuls and «elementwise ops, which compile»), or use a release where this model passes. "
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
        "a shape or a branch depends on a tensor's values, which torch.export cannot fix at export time: "
        "give the factory inputs of the shape you will run, and replace value-dependent Python control flow "
        "(`if x.sum() > 0`, sizes from `.item()`, `nonzero`) with fixed sizes, `torch.where` or `torch.cond`",
        "measured: `if x.sum() > 0:` stops torch.export (torch 2.13.0, turbine 3.9.0) with "
        "'Unsupported: Data-dependent branching', whose own hint is torch.cond",
        stages=("export",),
    ),
    Hint(
        "stack-limit",
        r"exceeded stack allocation limit of (?P<limit>\d+) bytes.*?Got (?P<got>\d+) bytes",
        "a kernel needs more stack than the compiler allows ({got} bytes, the limit is {limit}): compile "
        "with --iree-llvmcpu-stack-allocation-limit={suggested} (a profile's flags; the built-in "
        "`stack-1m` profile sets 1048576: `search-recipes` tries it)",
        "measured: the Whisper encoder at O2/O3 (lab/measurements.md)",
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
        stages=(),  # the words of any stage
        profile="soft-fmaf",
    ),
    Hint(
        "armv6-libgcc",
        r"undefined symbols? at link:.*?__aeabi_|undefined symbol: __aeabi_",
        "the kernels call a libgcc helper (`__aeabi_f2lz`: float to int64) that IREE's embedded linker "
        "for 32-bit ARM does not have: keep float-to-integer conversions in int32 (`.to(torch.int32)`), "
        "or run this model on a 64-bit board («it compiles and runs for aarch64»)",
        "measured: YOLOX-nano fails to link for armv6 on 3.9.0-3.11.0 and runs on the Pi 4 / Pi 3 "
        "targets (docs/boards.md)",
    ),
    Hint(
        "armv6-libm",
        r"undefined symbols? at link:.*\b(?P<fn>(?:exp|log|tanh|erf|pow|sin|cos)f)\b",
        "the kernels call libm's `{fn}`, which IREE's embedded link does not have: drop the flag that "
        "keeps math functions as library calls (3.3.0's `native-math` profile); the default "
        "approximations link (with `soft-fmaf` on the Pi Zero)",
        "measured: QuartzNet with native-math on 3.3.0 (docs/boards.md, 'fmaf')",
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
        "traced-differs",
        r"the model's forward\(\) computes something else while traced",
        "make forward() compute the same thing when torch.export traces it as when it runs: no branch "
        "on `torch.compiler.is_compiling()`, `torch.jit.is_tracing()` or `torch.jit.is_scripting()`, "
        "no random numbers drawn in forward() (a buffer made in the factory instead); check with "
        "`torch.export.export(model, inputs).module()(*inputs)` against `model(*inputs)`. IREE compiles "
        "the traced program, so no export recipe and no `bisect` gets past it",
        "measured: a forward() that branches on torch.compiler.is_compiling() fails so at export, "
        "its traced program run in torch against eager (tests/integration/test_model_behaviour.py)",
        stages=("export",),
    ),
    Hint(
        "model-build-timeout",
        r"your model did not return within (?P<seconds>\d+) s, the export stage's limit, while the model was "
        r"being built",
        "the model's file or its factory never returned, before its forward() ran: import the file and "
        'call the factory once in plain Python (`python -c \'import runpy; runpy.run_path("FILE")["FACTORY"]'
        "(0)'`); code at the file's top level or in the factory that waits (input(), a lock, a server, a "
        "download: the export runs with no network) never returns; one that is only slow to build gets "
        "longer with `--timeout export=SECONDS` (or `[timeouts] export = SECONDS` in the matrix file)",
        "measured: a model file whose factory sleeps times out its export at the limit, its phase noted "
        "by the export worker (tests/integration/test_sandbox.py)",
        stages=("export",),
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
        "kernel-build-timeout",
        r"the kernel's C did not build within (?P<seconds>\d+) s",
        "a kernel's C builds in seconds: look for what makes the compiler work without end (macros that "
        "expand exponentially, a huge generated table, an #include of itself) by building it by hand with "
        "the kernel's command (`iree-matrix show JOB --commands`); only a C that is really that large wants "
        "`--timeout kernel=SECONDS`",
        "the kernel stage's limit: 300 s (kernel/stages/kernel_build.py)",
        stages=("kernel",),
    ),
    Hint(
        "stage-timeout",
        r"did not finish within (?P<seconds>\d+) s, the (?P<stage>[\w-]+) stage's limit",
        "give the stage longer with `--timeout {stage}=SECONDS` (or `[timeouts] {stage} = SECONDS` in "
        "the matrix file): a loaded machine is slower at everything; it is tried again on the next run",
        "the stage's limit: docs/matrix-files.md ([timeouts])",
        stages=(),  # the words of any stage
    ),
    Hint(
        "assert-tensor-metadata",
        r"torch\.aten\._assert_tensor_metadata' is unknown",
        "the export holds `aten._assert_tensor_metadata`, which compilers before 3.2.0 do not know: "
        "use a newer compiler release",
        "measured: the transformers models on 2.9.0-3.1.0, past it from 3.2.0 (results/COMPATIBILITY.md)",
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
        "IREE's torch lowering has no `aten.diff`, and transformers puts one in the export of a model called "
        "with no `attention_mask` and no cache: its `masking_utils` then looks for packed sequences in the "
        "position ids (`find_packed_sequence_indices`: `torch.diff(position_ids, prepend=...)`), a check "
        "whose early exit is skipped while torch.export traces. «The route that compiles»: export with the "
        "recipe `fx+decompose` (torch's core ATen decompositions spell `aten.diff` as slices and a "
        "subtraction, and the library's boolean mask as ops: `--model FILE:FACTORY~fx+decompose`), or take "
        "the (batch, seq) mask as an input and hand the model a 4-D boolean (batch, 1, query, key) mask made "
        "from it, which transformers uses as it is; for a causal model with the causal triangle in it, "
        "`(mask[:, None, None, :] * (torch.arange(n)[:, None] >= torch.arange(n)[None, "
        ":]).to(mask.dtype)).bool()` (a product: IREE has no `aten.__and__`). Next known failure: a 2-D "
        "`attention_mask` gets past `aten.diff` to the library's own mask, whose 0-d boolean constant "
        "(`torch.vtensor.literal ... tensor<i1>`, hint bool-literal) no release from 3.11.0 to 3.13.0 "
        "compiles; and `fx+gaps` decomposes `aten.diff` only, so it stops there too",
        "measured: a tiny Qwen2ForCausalLM (transformers 5.23.0) called without a mask fails so on "
        "3.13.0; with a 2-D mask at `torch.vtensor.literal ... tensor<i1>`; with the 4-D causal mask "
        "above it compiles and matches torch (1.8e-7), the same logits as with the 2-D mask in torch; "
        "its `~fx+decompose` export compiles and matches (tests/integration/test_routes.py); read: "
        "transformers' masking_utils.py (`_preprocess_mask_arguments` calls "
        "`find_packed_sequence_indices` when position_ids are given and attention_mask and "
        "past_key_values are None; it returns early only when not tracing)",
        exporters=TRANSFORMERS,
        recipes=("fx+decompose",),
    ),
)
# The general hints first (environments, limits, exporters), then those keyed on one op.
HINTS: tuple[Hint, ...] = (*_GENERAL, *op_hints.OP_HINTS)


@dataclasses.dataclass(frozen=True)
class Found:
    """A hint that matched: which, the line of the tool's words it matched, and its advice."""

    hint: Hint
    line: str
    advice: str
    profile: str = ""  # the built-in profile that applies the advice's flag (`Hint.profile`)

    @property
    def name(self) -> str:
        return self.hint.name


def _found(hint: Hint, line: str, match: re.Match[str]) -> Found:
    values = {"profile": hint.profile, **{k: v for k, v in match.groupdict().items() if v is not None}}
    values.update(hint.fields(match) if hint.fields is not None else {})
    # an advice names only groups its every match has
    return Found(hint, line, re.sub(CLAIM, r"\1", hint.advice.format(**values)), values["profile"])


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
            if match := hint.search(line):
                return _found(hint, line, match)
    return None


def words(metrics: Optional[Mapping[str, Any]], message: Optional[str]) -> str:
    """Everything a record says about its failure, for matching: the compile stage's first error and the op it
    names (kept whole in the metrics, where the message may have been cut), then the message."""
    stored = metrics if isinstance(metrics, Mapping) else {}
    named = ("first_error", "failing_op", "source_op")
    parts = [str(stored[k]) for k in named if isinstance(stored.get(k), str)]
    return "\n".join([*parts, message or ""])


def of_record(record: Record) -> Optional[Found]:
    """The hint for a stored failure: its stage's, for its words, made by its exporter and compiler."""
    made = Made(record.label.exporter, record.label.compiler)
    return find(words(record.metrics, record.message), record.stage, made)


def telling_line(text: Optional[str], stage: Optional[str] = None) -> str:
    """The one line of a tool's words a person must see: the line a known signature matches, else
    the first line naming an error, else the first line."""
    found = find(text, stage)
    return found.line if found is not None else first_line(text)
