"""The hints keyed on one torch op that IREE does not lower, or lowers wrongly, each with a route
that works: measured by the newcomer rounds and the op survey (lab/measurements.md, docs/failures.md),
each remedy applied to a small model and compiled by tests/integration/test_routes.py. Read in
`hints.HINTS` after the general hints, in this order (the first signature a line matches wins)."""

from __future__ import annotations

from iree_matrix.iree.hint_types import Hint

OP_HINTS: tuple[Hint, ...] = (
    Hint(
        "diff-op",
        r"torch\.aten\.diff\b",
        "IREE's torch lowering has no `aten.diff` (`torch.diff`): export with the recipe `fx+gaps` (torch's "
        "own decomposition: slices, a concatenation and a subtraction; `fx+decompose` does it too), or write "
        "the difference out in the model, `x[..., 1:] - x[..., :-1]` (with `torch.cat` for `prepend=`)",
        "measured: an attention-mask builder that calls torch.diff fails so on 3.13.0; its `~fx+gaps` "
        "export compiles and matches torch (tests/integration/test_routes.py)",
        recipes=("fx+gaps",),
    ),
    Hint(
        "affine-grid",
        r"torch\.aten\.affine_grid_generator\b",
        "IREE's torch lowering has no `aten.affine_grid_generator` (`F.affine_grid`, a spatial "
        "transformer's sampling grid): export with the recipe `fx+rewrite` (the tool's own rewrite of "
        "a 2-D `affine_grid`, and of `grid_sample` bilinear with zeros or border padding, below; the "
        "export says which calls it left), or build the grid in the model, "
        "`grid = (base @ theta.transpose(1, 2)).view(n, h, w, 2)` with `base` a fixed (h*w, 3) buffer "
        "of pixel centres (x, y, 1), for align_corners=False `xs = (torch.arange(w) * 2 + 1) / w - 1` "
        "(`ys` likewise) and `base = torch.stack((x, y, torch.ones_like(x)), -1).reshape(h * w, 3)` from "
        '`y, x = torch.meshgrid(ys, xs, indexing="ij")`. Next known failure: `F.grid_sample` compiles '
        "but its outputs differ from torch wherever a sample falls outside the image (IREE pads with "
        "zeros whatever `padding_mode` says, and is wrong past [-1, 1]): sample by hand too, bilinear "
        "from four `gather`s of the (n, c, h*w) image at the clamped corners (docs/failures.md, "
        "'affine_grid_generator', spells it out), or keep the grid inside the image with zeros padding",
        "measured: a spatial transformer (affine_grid, then grid_sample with border padding) fails so "
        "on 3.10.0 and 3.13.0 by the default export and by `fx`, `fx+gaps`, `fx+decompose`, `nonstrict` "
        "(the `fx` routes also split grid_sample into `aten.grid_sampler_2d`, which IREE does not "
        "lower); with the grid by hand it compiles on 3.13.0 and differs from torch (0.5); with the "
        "sampling by hand too it matches, and so does its `~fx+rewrite` export, with border and with "
        "zeros padding (tests/integration/test_routes.py)",
        recipes=("fx+rewrite",),
    ),
    Hint(
        "cdist",
        r"torch\.aten\.(?:_cdist_forward|cdist)\b",
        "IREE's torch lowering has no `aten.cdist` (`torch.cdist`, pairwise distances, as in a "
        "k-nearest-neighbour search): export with the recipe `fx+rewrite` (p=2 only, by matmul: `|x|^2 + "
        "|y|^2 - 2 x@y^T`, then its square root, as torch computes it past 25 rows) or `fx+decompose` "
        "(torch's decomposition, any p: 13× ONNX Runtime's time on a kNN block), or write them in the model, "
        "`(a.unsqueeze(-2) - b.unsqueeze(-3)).square().sum(-1)` (squared: the same order for `topk`)",
        "measured: a point-cloud kNN block (cdist, topk, gather) fails so on 3.10.0 and 3.13.0 by the "
        "default export and by `fx`, `fx+gaps` and `nonstrict`; its `~fx+rewrite` and `~fx+decompose` "
        "exports, and the distances written out, compile and match torch on 3.13.0 "
        "(tests/integration/test_routes.py, test_recipes_cdist.py)",
        recipes=("fx+rewrite", "fx+decompose"),
    ),
    Hint(
        "index-add",
        r"torch\.aten\.(?P<op>index_add_?)(?![\w])",
        "IREE's torch lowering has no `aten.{op}` (`Tensor.index_add_`, a graph network's messages summed "
        "into their target nodes): export with the recipe `fx+decompose` (torch's own decomposition, a "
        "scatter-add), or sum by `scatter_add` in the model, `torch.zeros_like(x).scatter_add(0, "
        "dst.unsqueeze(1).expand(-1, m.shape[1]), m)` for `torch.zeros_like(x).index_add_(0, dst, m)` "
        "(«`scatter_reduce` with `amax`/`mean` compiles as it is»)",
        "measured: a message-passing graph network (index_add_, scatter_add, scatter_reduce amax) "
        "fails so on 3.10.0 and 3.13.0 by the default export, `fx`, `fx+gaps` and `nonstrict`; "
        "`~fx+decompose` passes on both (`search-recipes`), and it and the sum by `scatter_add` "
        "compile and match torch on 3.13.0 (tests/integration/test_routes.py)",
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
        "(docs/failures.md, 'embedding_bag', spells it out); «mode \"sum\" compiles as it is»",
        "measured: an nn.EmbeddingBag of mode sum compiles and matches torch on 3.13.0, modes mean and "
        "max fail so; a DLRM-style recommender with one bag of each fails so on 3.10.0 and 3.13.0 by "
        "every recipe `search-recipes` tries; with the mean and max bags written out it compiles and "
        "matches torch on 3.13.0 (tests/integration/test_routes.py)",
    ),
    Hint(
        "scatter-src-crash",
        r"crashed while lowering torch's AtenScatterSrcOp\b",
        "iree-compile crashes on torch's `scatter` of a tensor (`x.scatter(dim, index, src)`, e.g. a "
        "mixture-of-experts gate `zeros.scatter(-1, topk_idx, topk_weights)`): where the indices along "
        "`dim` are distinct (as `topk`'s are), export with the recipe `fx+rewrite` (the tool's own "
        "one-hot rewrite of it: a repeated index would be summed), or, where `x` is zeros too, "
        "write it as a one-hot sum, `(F.one_hot(index, n).to(src.dtype) * src.unsqueeze(-1)).sum(-2)` "
        "for `dim=-1` (n = x.shape[-1]), «which compiles»",
        "measured: a mixture-of-experts layer (topk routing, the gate by `scatter`) crashes so on "
        "3.10.0 and 3.13.0 by the default export and by `fx`, `fx+gaps`, `fx+decompose`, `nonstrict`; "
        "with the gate as a one-hot sum, and by `~fx+rewrite`, it compiles and matches torch on 3.13.0 "
        "(tests/integration/test_routes.py)",
        recipes=("fx+rewrite",),
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
        "flips, `torch.cat([x[..., 1:p + 1].flip(-1), x, x[..., -p - 1:-1].flip(-1)], -1)`, «which "
        "compiles» (for stft: that padding, then `torch.stft(..., center=False)`); no export recipe "
        "changes it (the padding is already a core op)",
        "measured: a 1-D reflect padding by 16, 32 or 64 fails so on 3.10.0, 3.12.0 and 3.13.0 (by 3, 9, "
        "12 or 15 it compiles, and 2-D reflect padding by 16 does); an stft audio front end fails so "
        "by the default export and every recipe `search-recipes` tries; the padding by slices and "
        "flips compiles and matches torch on 3.13.0 (tests/integration/test_routes.py)",
    ),
    Hint(
        "fft",
        r"torch\.aten\.(?P<op>fft_\w+|_fft_c2c|_fft_r2c|_fft_c2r)\b",
        "IREE's torch lowering has no `aten.{op}` (`torch.fft`, e.g. FNet's token mixing): export with the "
        "recipe `fx+rewrite` (the tool writes each transform as matmuls by DFT matrices, real and imaginary "
        "parts apart, up to 512 points a dim; `fx+decompose` stops at `aten._fft_c2c`), or for a real input "
        "write the transform as matmuls by fixed DFT matrices, `C = cos(2 pi j k / n)`, `S = sin(2 pi j k / "
        "n)` (buffers built once, `torch.outer(arange(n), arange(n))`): `fft(x).real = x @ C` and `.imag = "
        "-(x @ S)` along the last axis, `rfft` the first n // 2 + 1 columns, and `fft2(x).real = C_rows @ x "
        "@ C_cols - S_rows @ x @ S_cols`",
        "measured: an FNet-style encoder (`torch.fft.fft2(x).real`) fails so on 3.10.0 and 3.13.0 by "
        "the default export, `fx+gaps` and `fx+decompose`; its `~fx+rewrite` export and the transform "
        "as matmuls compile and match torch on 3.13.0 (tests/integration/test_routes.py)",
        recipes=("fx+rewrite",),
    ),
    Hint(
        "searchsorted",
        r"torch\.aten\.(?P<op>searchsorted)(?:\.\w+)?(?![\w])",
        "IREE's torch lowering has no `aten.{op}` (`torch.searchsorted`, e.g. NeRF's hierarchical sampling: "
        "a CDF inverted at fixed quantiles), and no export recipe gets past it (torch has no decomposition "
        "of it): count instead, over the last axis of both, `(sorted_seq.unsqueeze(-2) < "
        "values.unsqueeze(-1)).sum(-1)` for `torch.searchsorted(sorted_seq, values)` and `<=` for "
        "`right=True` (the same int64 indices; «`torch.bucketize` compiles as it is»)",
        "measured: a NeRF-style renderer's hierarchical sampling (cumsum, searchsorted right=True, "
        "gather) fails so on 3.13.0 by the default export and every recipe `search-recipes` tries; "
        "with the count it compiles and matches torch on 3.13.0 (tests/integration/test_routes.py)",
    ),
    Hint(
        "bool-and",
        r"torch\.aten\.(?P<op>__(?:and|xor)__)\.Tensor\b",
        "IREE's torch lowering has no `aten.{op}.Tensor`, the `&` (`^`) of two boolean tensors as "
        "torch.export keeps it (`inside = (i >= 0) & (i < n)`; «their `or` compiles»): export with the "
        "recipe `fx+decompose` (torch's own decomposition, `bitwise_and`), or write "
        "`torch.logical_and(a, b)` (`torch.logical_xor` for `^`) in the model",
        "measured: `(x > 0) & (x < 1)` and `(x > 0) ^ (x < -1)` fail so on 3.13.0 (their `or` compiles); a "
        "KAN layer's B-spline basis (bucketize, `&`, one_hot) exported `~fx+decompose`, and with "
        "`torch.logical_and`, compiles and matches torch on 3.13.0 (tests/integration/test_routes.py)",
        recipes=("fx+decompose",),
    ),
    Hint(
        "unnamed-op",
        # int and bool measured; a published `torch.constant.float` (YOLOX-nano on 2.9.0) is another op's
        r"failed to legalize operation 'torch\.constant\.(?:int|bool)'",
        "the error names a constant, not the op that failed: some torch op that takes this constant (a dim, "
        "a size, a kernel) has no lowering in IREE, and the compiler reports its leftover operand first, "
        "often at no line (`<unknown>:0`). Measured so: `aten.logsumexp` (`torch.logsumexp`) and "
        "`aten.col2im` (`F.fold`, `nn.Fold`); «torch's own decompositions of both compile»: export with the "
        "recipe `fx+decompose`, or write them out, `m = x.amax(d, keepdim=True); (x - m).exp().sum(d).log() "
        "+ m.squeeze(d)` for `torch.logsumexp(x, d)`, and `F.fold(cols, size, k, stride=s)` as "
        "`F.conv_transpose2d(cols.view(b, c * k * k, n_h, n_w), eye, stride=s, groups=c)` with `eye = "
        "torch.eye(k * k).view(k * k, 1, k, k).repeat(c, 1, 1, 1)` (n_h, n_w: the patches per column and "
        "row). Which op it is: `iree-compile model.mlir … --mlir-print-ir-after-failure` prints the function "
        "as the failed pass left it, the torch.aten op still in it",
        "measured: torch.logsumexp, alone and in a linear-chain CRF, and F.fold, alone and in a "
        "local-attention block, fail so on 3.13.0; their `~fx+decompose` exports, and both written out, "
        "compile and match torch on 3.13.0 (tests/integration/test_routes.py)",
        recipes=("fx+decompose",),
    ),
    Hint(
        "large-vector",
        r"operations with large vector sizes \((?P<bytes>\d+) bytes\) were found",
        "the llvm-cpu backend refuses a dispatch whose code holds a vector this large ({bytes} bytes) "
        "by default; `--iree-llvmcpu-fail-on-large-vector=false` (in every release 2.9.0 to 3.13.0, "
        "`iree-compile --help-hidden`) «lets it through», but such dispatches spill the vector to the "
        "stack: run the module on several threads before taking it (a local-task worker has 128 KiB of "
        "stack, `--task_worker_stack_size`), or drop the flag that made the vector (data tiling with the "
        "channels-last preprocessing pipeline made YOLOX-nano's)",
        "measured: YOLOX-nano with data tiling and the channels-last pipeline fails so on 3.13.0 "
        "(a `vector<4x13x16x16xf32>` transpose); with the flag it compiles and matches torch on one "
        "thread, and with kernels/depthwise3x3 swapped in its local-task run crashes at the default "
        "worker stack and runs with 192 KiB (docs/kernels.md, 'YOLOX-nano')",
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
    ),
    Hint(
        "sort-select",
        r"torch\.aten\.(?P<op>median|nanmedian|kthvalue)\b|'tm_tensor\.topk' op region block must end",
        "IREE has no lowering for an order statistic (`torch.median`, `nanmedian`, `kthvalue`; "
        "`kthvalue` fails verifying `tm_tensor.topk`), «but `sort` compiles»: sort along the dimension "
        "and take the element, `x.sort(dim).values.select(dim, k - 1)` for `kthvalue(x, k, dim)` and "
        "`k - 1 = (n - 1) // 2` for torch's median (the lower of the two middle values); the indices, "
        "where needed, from `.indices` the same way",
        "measured: a median filter (`unfold`, then `.median(-1)`) fails so on 3.13.0, and "
        "`kthvalue` with the `tm_tensor.topk` error; with sort and select it compiles and matches "
        "torch (tests/integration/test_routes.py)",
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
        "(for an inverse, a fixed number of Newton-Schulz steps, «`X = X @ (2 * I - A @ X)`, compiles»)",
        "measured: a flow step run backwards (`torch.linalg.inv` of its weight in `forward`) fails so "
        "on 3.13.0, and `fx+decompose` stops at the importer (\"Higher-order operation 'with_effects'\"); "
        "with the inverse as a buffer it compiles and matches torch (tests/integration/test_routes.py)",
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
    ),
    Hint(
        "negative-pad",
        r"torch\.aten\.(?:pad|constant_pad_nd) with a negative padding",
        "IREE computes a constant padding by a negative amount wrongly (`F.pad(x, (0, 0, 1, -1))`, a "
        "token shift, a crop: one that keeps the size runs and differs from torch, one that shrinks it "
        "fails to compile), and `fx+decompose` keeps it: pad by the positive amounts and slice, "
        "`F.pad(x, (0, 0, 1, 0))[:, :-1]`, or `torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], 1)`; "
        "a crop is a slice: `F.pad(y, (0, 0, 0, -1))` is `y[:, :-1]`",
        "measured: an RWKV-style token shift differs from torch by up to 5.4 on 3.10.0, 3.12.0 and "
        "3.13.0; padded then sliced it matches; a crop by -1 row fails to compile on 3.13.0 ('slice "
        "along dimension 0 runs out-of-bounds') and sliced compiles (tests/integration/test_routes.py)",
        stages=("run", "compile"),
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
    ),
    Hint(
        "det-no-avx2",
        r"torch\.aten\.linalg_(?:slog)?det compiled for a CPU without AVX2",
        "IREE 3.13.0 computes `torch.linalg.slogdet`/`det` wrongly for x86-64 CPUs without AVX2 "
        "(`generic`, `x86-64`, `x86-64-v2`, and `host` on such a CPU): compile for `x86-64-v3` on, or, "
        "for the weights' own matrix "
        '(a flow\'s 1x1 convolution), keep it as a buffer: `register_buffer("logdet", torch.linalg.'
        "slogdet(W).logabsdet)`",
        "measured on 3.13.0: an 8x8 slogdet differs by 6.5 for generic, x86-64, x86-64-v2, matches for "
        "v3, v4, znver5; as a buffer it matches on generic (tests/integration/test_routes.py)",
        stages=("run",),
    ),
)
