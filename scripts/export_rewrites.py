"""The ``rewrite`` choice of an export recipe (export_fx.py): the tool's own rewrites of ops IREE cannot
compile, each the remedy a hint once asked the user to write in their model (iree/hints.toml), applied
at export as a decomposition instead. Runs inside an exporter environment (Python 3.9 syntax; the
stdlib and torch).

Each rewrite is exact only where it says; where a call is outside that (a padding mode, an
interpolation, a shape it does not take), it returns ``NotImplemented`` and the op is left as
exported (and fails as before, with its hint), and the export's stderr says which call and why:

``affine_grid_generator``  a 2-D grid (``F.affine_grid`` of an (n, 2, 3) theta): the fixed (h*w, 3)
                           base grid of pixel centres (x, y, 1) times theta transposed (any
                           ``align_corners``); a 3-D (volume) grid is left
``grid_sampler(_2d)``     ``F.grid_sample`` of an image bilinear with ``zeros`` or ``border`` padding (any
                           ``align_corners``): four gathers of the (n, c, h*w) image at the corners,
                           clamped (border) or masked (zeros); ``nearest``, ``bicubic`` and
                           ``reflection`` are left
``scatter.src``            ``x.scatter(dim, index, src)`` with index and src the shape of x but along
                           ``dim``: a one-hot comparison of index against ``arange(x.shape[dim])``, the
                           sum of src over it where a position is written, x elsewhere: exact where the
                           indices along ``dim`` are distinct (``topk``'s are; torch's own result for a
                           repeated index is unspecified), since a repeated one sums
``cdist``                  ``torch.cdist(x, y)`` with ``p=2``: ``|x|^2 + |y|^2 - 2 x@y^T``, clamped at 0, its
                           square root: the form torch itself computes past 25 rows
                           (``use_mm_for_euclid_dist_if_necessary``), equal within rounding below; another
                           ``p``, or ``compute_mode='donot_use_mm_for_euclid_dist'``, is left
``topk``                   ``x.topk(k)`` with ``k`` at most TOPK_MOST, of floats: ``k`` rounds of a
                           reduction over the row's places not yet taken (a "taken" mask by place,
                           never a value written over: a row of -inf, NaN or ties, or ``k`` past its
                           finite count, still takes ``k`` distinct places), in torch's order: NaN
                           first for the largest (last for ``largest=False``), then by value, equal
                           values by ascending place (torch's own order among equal values is its
                           sort's, unspecified); ``sorted=False`` comes sorted too, one of the orders
                           torch allows (the export marks such an output unordered, and the checks
                           compare it as a set): IREE lowers ``topk`` to a sort of each whole row
                           (``sort_1x64x64``, 0.67 ms of a 0.85 ms kNN block on a Zen 4), where these
                           are vector reductions; a larger ``k`` or an integer tensor is left
``_fft_r2c/c2c/c2r``       every ``torch.fft`` transform (torch's own decomposition of each call, with
                           its ``n``/``s``, ``dim`` and ``norm``, reaches these three): matmuls by cos
                           and sin DFT matrices on real and imaginary parts kept apart, taken from and
                           given back as complex by ``view_as_real``/``complex``; after them
                           ``fold_complex`` removes the pairs taken apart again (``fft2(x).real``) and
                           ``split_complex`` computes what a model does with complex values between
                           transforms (an FNO's zeros, slices and product with complex weights) on real
                           pairs, so IREE sees no complex arithmetic; past FFT_MOST points, left
``upsample_bicubic2d``     ``F.interpolate(mode="bicubic")`` by size or scale, any ``align_corners``:
                           two matmuls by each axis's (out, in) matrix of the four clamped taps;
                           antialiased, or a matrix past RESIZE_MOST entries, left (bilinear and
                           nearest are torch's own decomposition, export_fx.RESIZE)
``scatter_reduce.two``     ``amax``/``amin``, ``include_self`` either way, index and src the shape of
                           self but along dim: a masked reduction over a one-hot of the indices; another
                           reduction, or a one-hot past SCATTER_MOST entries, left
``index_add``              of floats: self plus a one-hot (places, indices) matmul of the source

Every program a recipe makes is run in torch against eager before IREE sees it (export_recipe.py): a
rewrite that computes something else is the recipe's ``recipe-error``, named by ``APPLIED``.
"""

from __future__ import annotations

import sys


def _left(op, why):
    print(f"export_rewrites: {op} left as exported: {why}", file=sys.stderr)
    return NotImplemented


def affine_grid(theta, size, align_corners):
    import torch

    if len(size) != 4 or theta.dim() != 3 or tuple(theta.shape[1:]) != (2, 3):
        return _left("affine_grid_generator", f"a grid of size {list(size)} (only a 2-D one is rewritten)")
    n, _, h, w = size

    def centres(count):
        steps = torch.arange(count, dtype=theta.dtype, device=theta.device)
        if align_corners:
            return steps * (2.0 / max(count - 1, 1)) - 1 if count > 1 else steps * 0
        return (steps * 2 + 1) / count - 1

    # by expand, not meshgrid: IREE 3.13.0 cannot take meshgrid's list of tensors ("operand types
    # should have the same type as the list contained type")
    y, x = centres(h).view(h, 1).expand(h, w), centres(w).view(1, w).expand(h, w)
    base = torch.stack((x, y, torch.ones_like(x)), -1).reshape(h * w, 3)
    return (base @ theta.transpose(1, 2)).view(n, h, w, 2)


MODES = {0: "bilinear", 1: "nearest", 2: "bicubic"}
PADDINGS = {0: "zeros", 1: "border", 2: "reflection"}


def grid_sample(image, grid, interpolation_mode, padding_mode, align_corners):
    import torch

    if interpolation_mode != 0 or padding_mode not in (0, 1):
        mode, padding = MODES.get(interpolation_mode), PADDINGS.get(padding_mode)
        return _left("grid_sampler", f"mode {mode}, padding {padding} (only bilinear, zeros or border)")
    n, c, h, w = image.shape

    def pixel(coord, size):
        if align_corners:
            return (coord + 1) / 2 * (size - 1)
        return ((coord + 1) * size - 1) / 2

    x, y = pixel(grid[..., 0], w), pixel(grid[..., 1], h)
    if padding_mode == 1:  # border: the coordinate clamped to the image
        x, y = x.clamp(0, w - 1), y.clamp(0, h - 1)
    x0, y0 = x.floor(), y.floor()
    wx, wy = (x - x0).unsqueeze(1), (y - y0).unsqueeze(1)
    flat = image.reshape(n, c, h * w)

    def at(yi, xi):
        inside = None  # zeros: a corner outside the image adds nothing (logical_and: IREE has no `&`)
        if padding_mode == 0:
            inside = torch.logical_and(
                torch.logical_and(xi >= 0, xi <= w - 1), torch.logical_and(yi >= 0, yi <= h - 1)
            )
        cx, cy = xi.clamp(0, w - 1).to(torch.int64), yi.clamp(0, h - 1).to(torch.int64)
        index = (cy * w + cx).reshape(n, 1, -1).expand(n, c, -1)
        got = flat.gather(2, index).reshape(n, c, *xi.shape[1:])
        return got if inside is None else got * inside.unsqueeze(1).to(got.dtype)

    x1, y1 = x0 + 1, y0 + 1
    top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx
    return top * (1 - wy) + (at(y1, x0) * (1 - wx) + at(y1, x1) * wx) * wy


def scatter_src(self, dim, index, src):
    import torch

    dim = dim % self.dim() if self.dim() else 0
    if tuple(index.shape) != tuple(self.shape[:dim]) + (index.shape[dim],) + tuple(self.shape[dim + 1 :]) or (
        tuple(src.shape) != tuple(index.shape)
    ):
        return _left("scatter.src", "an index or src not the shape of self but along dim")
    size = self.shape[dim]
    hot = index.movedim(dim, -1).unsqueeze(-1) == torch.arange(size, device=index.device)  # (..., k, size)
    values = src.movedim(dim, -1).unsqueeze(-1).to(self.dtype)
    weights = hot.to(self.dtype)
    written = weights.sum(-2) > 0
    summed = (weights * values).sum(-2)
    return torch.where(written, summed, self.movedim(dim, -1)).movedim(-1, dim)


def cdist(x1, x2, p=2.0, compute_mode=None):
    if p != 2 or compute_mode == 2:
        why = f"p={p}" if p != 2 else "compute_mode donot_use_mm_for_euclid_dist"
        return _left("cdist", f"{why} (only p=2 by matmul)")
    squares = x1.square().sum(-1).unsqueeze(-1) + x2.square().sum(-1).unsqueeze(-2)
    return (squares - 2 * x1 @ x2.transpose(-1, -2)).clamp_min(0).sqrt()


TOPK_MOST = 16  # k rounds of a reduction over the row: past this, the sort is left


def topk(self, k, dim=-1, largest=True, sorted=True):
    import torch

    if k > TOPK_MOST or not self.is_floating_point() or self.dim() == 0:
        why = f"k={k} (at most {TOPK_MOST})" if k > TOPK_MOST else "not a float tensor of one or more dims"
        return _left("topk", why)
    dim = dim % self.dim()
    place = torch.arange(self.shape[dim], device=self.device).view(
        [-1 if d == dim else 1 for d in range(self.dim())]
    )
    nan = torch.isnan(self)
    number = torch.logical_not(nan)
    # Places are taken by a mask, never by writing -inf (+inf) over a value: a row of -inf, or k past
    # its finite count, took place 0 k times that way (a kNN's masked row: max abs err 260, IREE blamed)
    taken = torch.zeros_like(nan)
    bound = float("-inf") if largest else float("inf")
    values, indices = [], []
    for _ in range(k):
        free = torch.logical_not(taken)
        free_nan, free_number = torch.logical_and(free, nan), torch.logical_and(free, number)
        among = torch.where(free_number, self, torch.full_like(self, bound))
        best = among.amax(dim, keepdim=True) if largest else among.amin(dim, keepdim=True)
        is_best = torch.logical_and(free_number, among == best)  # -inf == -inf: a free -inf is a candidate
        # torch.topk ranks NaN above every number: first for the largest, last for the smallest
        first, then = (free_nan, is_best) if largest else (is_best, free_nan)
        some_first = first.to(self.dtype).amax(dim, keepdim=True) > 0
        candidates = torch.where(some_first, first, then)
        at = torch.argmax(candidates.to(self.dtype), dim=dim, keepdim=True)  # the first candidate place
        values.append(torch.gather(self, dim, at))
        indices.append(at)
        taken = torch.logical_or(taken, place == at)
    return torch.cat(values, dim), torch.cat(indices, dim)


FFT_MOST = 512  # points along a transformed dim: a DFT is an (n, n) matmul, past this it is left
FFT_NORMS = {0: "none", 1: "by_root_n", 2: "by_n"}  # the _fft_* ops' `normalization`


def _dft(n, k, sign, like, rows=None):
    """cos and sign*sin of 2*pi*j*m/n for j < n (or `rows`), m < k: the DFT's real and imaginary
    matrices, the angle's product reduced mod n in integers (a float j*m loses the angle past 2^24)."""
    import math

    import torch

    j = torch.arange(n if rows is None else rows, device=like.device).unsqueeze(1)
    angle = ((j * torch.arange(k, device=like.device)) % n).to(like.dtype) * (2 * math.pi / n)
    return angle.cos(), angle.sin() * sign


def _along(x, dim, matrix):
    return (x.movedim(dim, -1) @ matrix).movedim(-1, dim)


def _parts(x):
    import torch

    pair = torch.view_as_real(x)
    return pair.select(-1, 0), pair.select(-1, 1)


def _fft_refused(op, x, dims, sizes, normalization):
    import torch

    if x.dtype not in (torch.float32, torch.float64, torch.complex64, torch.complex128):
        return _left(op, f"dtype {x.dtype} (only float32/64 and complex64/128)")
    if max(sizes, default=0) > FFT_MOST or normalization not in FFT_NORMS:
        return _left(op, f"a transform of {sizes} points (at most {FFT_MOST} along each dim)")
    return None


def _normed(parts, sizes, normalization):
    import math

    scale = (1.0, 1 / math.sqrt(math.prod(sizes)), 1 / math.prod(sizes))[normalization]
    return parts if scale == 1.0 else tuple(p * scale for p in parts)


def _c2c_steps(re, im, dims, sign):
    for d in dims:
        n = re.shape[d]
        c, s = _dft(n, n, sign, re)
        re, im = _along(re, d, c) - _along(im, d, s), _along(im, d, c) + _along(re, d, s)
    return re, im


def fft_r2c(self, dim, normalization, onesided):
    """A real transform: the last dim's DFT (its n//2+1 onesided terms), then the others' c2c."""
    import torch

    dims = [d % self.dim() for d in dim]
    sizes = [self.shape[d] for d in dims]
    if _fft_refused("_fft_r2c", self, dims, sizes, normalization) is NotImplemented:
        return NotImplemented
    last, n = dims[-1], sizes[-1]
    c, s = _dft(n, n // 2 + 1 if onesided else n, -1, self)
    re, im = _c2c_steps(_along(self, last, c), _along(self, last, s), dims[:-1], -1)
    return torch.complex(*_normed((re, im), sizes, normalization))


def fft_c2c(self, dim, normalization, forward):
    import torch

    dims = [d % self.dim() for d in dim]
    sizes = [self.shape[d] for d in dims]
    if _fft_refused("_fft_c2c", self, dims, sizes, normalization) is NotImplemented:
        return NotImplemented
    re, im = _c2c_steps(*_parts(self), dims, -1 if forward else 1)
    return torch.complex(*_normed((re, im), sizes, normalization))


def fft_c2r(self, dim, normalization, last_dim_size):
    """An inverse to a real signal: the other dims' inverse c2c, then the last's from its n//2+1
    terms (each but the first and, for an even n, the middle counted twice: the conjugate half)."""
    import torch

    dims = [d % self.dim() for d in dim]
    sizes = [self.shape[d] for d in dims[:-1]] + [last_dim_size]
    if _fft_refused("_fft_c2r", self, dims, sizes, normalization) is NotImplemented:
        return NotImplemented
    last, n, half = dims[-1], last_dim_size, last_dim_size // 2 + 1
    if self.shape[last] < half:
        return _left("_fft_c2r", f"{self.shape[last]} terms for {n} points (at least {half})")
    re, im = _c2c_steps(*_parts(self), dims[:-1], 1)
    re, im = re.narrow(last, 0, half), im.narrow(last, 0, half)
    c, s = _dft(n, n, 1, re, rows=half)
    k = torch.arange(half, device=re.device).unsqueeze(1)
    weight = 2 - (k == 0).to(re.dtype) - (k * 2 == n).to(re.dtype)  # by arange: no constant to lift
    (out,) = _normed((_along(re, last, c * weight) - _along(im, last, s * weight),), sizes, normalization)
    return out


RESIZE_MOST = 1 << 22  # entries of one axis's (out, in) interpolation matrix: past this, left
CUBIC = -0.75  # torch's cubic convolution coefficient (upsample_bicubic2d)


def _cubic_matrix(size, out, align_corners, scale, like):
    """The (out, size) matrix of one axis's bicubic resize as torch computes it: each output's source
    coordinate (not clamped, as torch's cubic), the 4 taps around it clamped to the image, weighted."""
    import torch

    dst = torch.arange(out, device=like.device).to(like.dtype)
    if align_corners:
        src = dst * ((size - 1) / (out - 1) if out > 1 else 0.0)
    else:
        src = (dst + 0.5) * (1.0 / scale if scale else size / out) - 0.5
    floor = src.floor()
    t = (src - floor).unsqueeze(1)
    a, near, far = CUBIC, torch.cat((t, 1 - t), 1), torch.cat((t + 1, 2 - t), 1)
    w_near = ((a + 2) * near - (a + 3)) * near * near + 1  # taps 1, 2 (distance < 1)
    w_far = ((a * far - 5 * a) * far + 8 * a) * far - 4 * a  # taps 0, 3 (distance 1 to 2)
    weights = torch.stack((w_far[:, 0], w_near[:, 0], w_near[:, 1], w_far[:, 1]), 1)  # (out, 4)
    taps = (floor.unsqueeze(1) + torch.arange(-1, 3, device=like.device)).clamp(0, size - 1)
    hot = taps.to(torch.int64).unsqueeze(2) == torch.arange(size, device=like.device)  # (out, 4, size)
    return (hot.to(like.dtype) * weights.unsqueeze(2)).sum(1)


def upsample_bicubic(self, output_size, align_corners, scales_h=None, scales_w=None):
    """F.interpolate(mode="bicubic") of an (n, c, h, w) image: two matmuls by each axis's
    interpolation matrix (a tap past the edge counted at the edge, as torch clamps it)."""
    if self.dim() != 4 or not self.is_floating_point():
        return _left("upsample_bicubic2d", "not a float (n, c, h, w) image")
    (h, w), (oh, ow) = self.shape[2:], output_size
    if max(h * oh, w * ow) > RESIZE_MOST:
        return _left("upsample_bicubic2d", f"{h}x{w} to {oh}x{ow} (at most {RESIZE_MOST} per axis matrix)")
    rows = _cubic_matrix(h, oh, align_corners, scales_h, self)
    cols = _cubic_matrix(w, ow, align_corners, scales_w, self)
    return rows @ self @ cols.transpose(0, 1)


def upsample_bicubic_vec(self, output_size, align_corners, scale_factors):
    if output_size is None:  # by a scale factor: the size torch takes, the factor for the coordinates
        output_size = [int(size * f) for size, f in zip(self.shape[2:], scale_factors)]
    return upsample_bicubic(self, output_size, align_corners, *(scale_factors or (None, None)))


SCATTER_MOST = 1 << 24  # entries of the one-hot (..., index, self along dim): past this, left


def _hot(self, dim, index, src, op):
    """The one-hot of `index` along `dim` against self's places (..., k, size), where index and src
    have self's shape but along dim, and the cap holds; else None (and said)."""
    import math

    import torch

    d = dim % self.dim() if self.dim() else 0
    if tuple(index.shape) != tuple(self.shape[:d]) + (index.shape[d],) + tuple(self.shape[d + 1 :]) or (
        tuple(src.shape) != tuple(index.shape)
    ):
        _left(op, "an index or src not the shape of self but along dim")
        return None
    if math.prod(index.shape) * self.shape[d] > SCATTER_MOST:
        _left(
            op, f"an index of {list(index.shape)} into {self.shape[d]} places (one-hot past {SCATTER_MOST})"
        )
        return None
    return d, index.movedim(d, -1).unsqueeze(-1) == torch.arange(self.shape[d], device=index.device)


def scatter_reduce(self, dim, index, src, reduce, include_self=True):
    """``x.scatter_reduce(dim, index, src, "amax" | "amin")``: each place's reduction over a one-hot
    of the indices (a masked amax/amin), x where no index writes (and in the reduction with
    ``include_self``); IREE's scatter needed 64 KiB of stack (its limit 32) in a GNN's message pass."""
    import torch

    if reduce not in ("amax", "amin"):
        return _left("scatter_reduce", f"reduce={reduce!r} (only amax, amin)")
    found = _hot(self, dim, index, src, "scatter_reduce")
    if found is None:
        return NotImplemented
    d, hot = found
    most = reduce == "amax"
    if self.is_floating_point():
        bound = float("-inf") if most else float("inf")
    else:
        bound = torch.iinfo(self.dtype).min if most else torch.iinfo(self.dtype).max
    masked = torch.where(hot, src.movedim(d, -1).unsqueeze(-1).to(self.dtype), bound)
    got = masked.amax(-2) if most else masked.amin(-2)
    base = self.movedim(d, -1)
    if include_self:
        got = torch.maximum(got, base) if most else torch.minimum(got, base)
    return torch.where(hot.sum(-2) > 0, got, base).movedim(-1, d)


def index_add(self, dim, index, source, alpha=1):
    """``x.index_add(dim, index, source)`` of floats: x plus the one-hot (places, len(index)) matmul
    of source (a sum in another order than torch's, so equal within rounding)."""
    import torch

    d = dim % self.dim() if self.dim() else 0
    if not self.is_floating_point() or index.dim() != 1 or self.dim() == 0:
        return _left("index_add", "not a float tensor with a 1-D index")
    if self.shape[d] * index.shape[0] > SCATTER_MOST:
        return _left(
            "index_add", f"{index.shape[0]} indices into {self.shape[d]} (one-hot past {SCATTER_MOST})"
        )
    hot = (torch.arange(self.shape[d], device=index.device).unsqueeze(1) == index).to(self.dtype)
    moved = source.movedim(d, 0)
    added = (hot @ moved.reshape(index.shape[0], -1)).reshape(self.shape[d], *moved.shape[1:])
    return self + (added.movedim(0, d) if alpha == 1 else added.movedim(0, d) * alpha)


def fold_complex(program):
    """Each ``view_as_real(complex(re, im))`` of the program's graph as ``stack((re, im), -1)``, and
    ``view_as_real`` of a real ``x`` made complex (``fft`` of a real input is a c2c of it) as
    ``stack((x, zeros_like(x)), -1)``: a transform's result taken apart again (``fft(x).real``, an
    ``irfft`` of an ``rfft``) then holds no complex value; those a model computes with between
    transforms stay (the importer types each node by its ``val``: the stack takes the view's)."""
    import torch

    aten, graph = torch.ops.aten, program.graph
    for node in list(graph.nodes):
        made = node.args[0] if node.target is aten.view_as_real.default else None
        target, val = getattr(made, "target", None), node.meta.get("val")
        real = getattr(made.args[0].meta.get("val"), "dtype", 0) if target is aten._to_copy.default else 0
        if real == getattr(val, "dtype", None):  # a real x made complex: its parts are x and zeros
            with graph.inserting_before(node):
                zeros = graph.call_function(aten.zeros_like.default, (made.args[0],))
            zeros.meta.update(made.args[0].meta)
            parts = [made.args[0], zeros]
        elif target is aten.complex.default:
            parts = list(made.args[:2])
        else:
            continue
        with graph.inserting_before(node):
            pair = graph.call_function(aten.stack.default, (parts, -1))
        pair.meta.update(node.meta)
        node.replace_all_uses_with(pair)
        graph.erase_node(node)
    graph.eliminate_dead_code()
    program.graph_module.recompile()


def _is_complex(value):
    return getattr(getattr(value, "meta", {}).get("val"), "is_complex", lambda: False)()


def _pair_rules():
    """How each op a model moves or multiplies complex values by is done on their (..., 2) real
    pairs (view_as_real's layout): op -> (whether a node of it can be, its rule(emit, pair, rank of
    its first argument, args))."""
    import torch

    aten, cx = torch.ops.aten, _is_complex

    def product(fn):  # (ar + i ai)(br + i bi), fn the real product (mul, mm, bmm, einsum)
        def rule(emit, pair, n, args):
            (ar, ai), (br, bi) = ([emit(aten.select.int, pair(a), -1, k) for k in (0, 1)] for a in args)
            re = emit(aten.sub.Tensor, fn(emit, ar, br), fn(emit, ai, bi))
            return emit(
                aten.stack.default, [re, emit(aten.add.Tensor, fn(emit, ar, bi), fn(emit, ai, br))], -1
            )

        return rule

    def mul(emit, pair, n, args):
        if cx(args[0]) and cx(args[1]):
            return product(lambda e, a, b: e(aten.mul.Tensor, a, b))(emit, pair, n, args)
        z, other = (args[0], args[1]) if cx(args[0]) else (args[1], args[0])
        return emit(
            aten.mul.Tensor,
            pair(z),
            emit(aten.unsqueeze.default, other, -1) if hasattr(other, "meta") else other,
        )

    def same(target, dims=lambda n, a: a):  # the op on the pair, its dim arguments moved past the pair
        return lambda emit, pair, n, args: emit(target, *dims(n, [pair(a) if cx(a) else a for a in args]))

    def dim_at(i, extra=0):
        return lambda n, a: [*a[:i], a[i] % (n + extra), *a[i + 1 :]] if len(a) > i else a

    def zeros(emit, pair, n, args):
        return emit(aten.zeros.default, [*args[0], 2], dtype=torch.float32)

    def sized(n, a):
        return [a[0], [*a[1], 2]]

    every, both = (lambda args: True), (lambda args: cx(args[0]) and cx(args[1]) and len(args) == 2)
    return {
        aten.complex.default: (
            every,
            lambda emit, pair, n, args: emit(aten.stack.default, list(args[:2]), -1),
        ),
        aten.zeros.default: (lambda args: len(args) == 1, zeros),
        aten.full.default: (lambda args: args[1] == 0, zeros),
        aten.slice.Tensor: (every, same(aten.slice.Tensor, dim_at(1))),
        aten.select.int: (every, same(aten.select.int, dim_at(1))),
        aten.slice_scatter.default: (
            lambda a: cx(a[0]) and cx(a[1]),
            same(aten.slice_scatter.default, dim_at(2)),
        ),
        aten.copy.default: (both, same(aten.copy.default)),
        aten.clone.default: (every, same(aten.clone.default)),
        aten.alias.default: (every, same(aten.alias.default)),
        aten.permute.default: (
            every,
            same(aten.permute.default, lambda n, a: [a[0], [d % n for d in a[1]] + [n]]),
        ),
        aten.view.default: (every, same(aten.view.default, sized)),
        aten.expand.default: (every, same(aten.expand.default, sized)),
        aten.unsqueeze.default: (every, same(aten.unsqueeze.default, dim_at(1, 1))),
        aten.transpose.int: (every, same(aten.transpose.int, lambda n, a: [a[0], a[1] % n, a[2] % n])),
        aten.add.Tensor: (both, same(aten.add.Tensor)),
        aten.sub.Tensor: (both, same(aten.sub.Tensor)),
        aten.mul.Tensor: (lambda args: not isinstance(args[1], complex), mul),
        aten.mul.Scalar: (lambda args: not isinstance(args[1], complex), mul),
        aten.bmm.default: (both, product(lambda e, a, b: e(aten.bmm.default, a, b))),
        aten.mm.default: (both, product(lambda e, a, b: e(aten.mm.default, a, b))),
        aten.einsum.default: (
            lambda args: len(args[1]) == 2 and both(args[1]),
            lambda emit, pair, n, args: product(lambda e, a, b: e(aten.einsum.default, args[0], [a, b]))(
                emit, pair, n, args[1]
            ),
        ),
    }


DROPPED = ("dtype", "layout", "device", "pin_memory", "memory_format")  # a pair's are its own


def _pairable(node, rules):
    import torch

    if node.op == "placeholder":
        return True
    rule = rules.get(node.target) if node.op == "call_function" else None
    if rule is None or set(node.kwargs) - set(DROPPED) or node.meta["val"].dtype != torch.complex64:
        return False
    view_as_real = torch.ops.aten.view_as_real.default
    return rule[0](list(node.args)) and all(_is_complex(u) or u.target is view_as_real for u in node.users)


def split_complex(program):
    """Every complex value of the program as a real (..., 2) pair, where each is complex64, made by an
    op of _pair_rules and used by such ops or a view_as_real (else the program is left as it is):
    IREE 3.13.0 lowers no complex arithmetic (`mul.Scalar` of complex<f32>: "Only integer/float dtype
    supported"), and crashed on an FNO's complex slice_scatter. A complex parameter is taken as its
    view_as_real. Each new node's `val` (what the importer types it by) is computed by its op."""
    import torch
    from torch._guards import detect_fake_mode
    from torch.fx.node import map_arg

    graph, rules = program.graph, _pair_rules()
    nodes = list(graph.nodes)
    held = [n for n in nodes if _is_complex(n)]
    if not held or not all(_pairable(n, rules) for n in held):
        return
    mode = detect_fake_mode([n.meta.get("val") for n in nodes if "val" in n.meta])
    pairs, first = {}, next(n for n in nodes if n.op != "placeholder")
    for node in nodes:
        at = first if node.op == "placeholder" else node

        def emit(target, *args, at=at, **kwargs):
            with graph.inserting_before(at):
                made = graph.call_function(target, tuple(args), kwargs)
            with mode:
                made.meta["val"] = target(*map_arg(args, lambda a: a.meta["val"]), **kwargs)
            return made

        if node.op == "placeholder" and _is_complex(node):
            pairs[node] = emit(torch.ops.aten.view_as_real.default, node)
        elif node.target is torch.ops.aten.view_as_real.default and node.args[0] in pairs:
            node.replace_all_uses_with(pairs[node.args[0]])
        elif _is_complex(node):
            first_arg = node.args[0] if node.args else None
            rank = first_arg.meta["val"].dim() if _is_complex(first_arg) else node.meta["val"].dim()
            pairs[node] = rules[node.target][1](emit, pairs.__getitem__, rank, list(node.args))
    graph.eliminate_dead_code()
    program.graph_module.recompile()


APPLIED = []  # the rewrites a decomposition applied, in order (each once): what a recipe's check names


def _recording(name, fn):
    def rewrite(*args, **kwargs):
        made = fn(*args, **kwargs)
        if made is not NotImplemented and name not in APPLIED:
            APPLIED.append(name)
        return made

    return rewrite


def table():
    """The rewrites by the ops they replace (those this torch has)."""
    import torch

    aten = torch.ops.aten
    found = {}
    for packet, overload, fn in (
        ("affine_grid_generator", "default", affine_grid),
        ("grid_sampler", "default", grid_sample),  # what torch.export keeps of F.grid_sample
        ("grid_sampler_2d", "default", grid_sample),  # what the core table makes of it
        ("scatter", "src", scatter_src),
        ("cdist", "default", cdist),  # what torch.export keeps of torch.cdist
        ("_cdist_forward", "default", cdist),
        ("topk", "default", topk),
        ("_fft_r2c", "default", fft_r2c),  # what torch's own decomposition of each torch.fft call gives
        ("_fft_c2c", "default", fft_c2c),
        ("_fft_c2r", "default", fft_c2r),
        ("upsample_bicubic2d", "default", upsample_bicubic),
        ("upsample_bicubic2d", "vec", upsample_bicubic_vec),  # what torch.export keeps of F.interpolate
        ("scatter_reduce", "two", scatter_reduce),
        ("index_add", "default", index_add),
    ):
        op = getattr(getattr(aten, packet, None), overload, None)
        if op is not None:
            found[op] = _recording(packet, fn)
    # torch.fft's calls (kept by torch.export and by the `gaps` table) by torch's own decomposition, to
    # the _fft_* ops above (the core table does so too: `decompose` reaches them alone)
    from torch._decomp import core_aten_decompositions

    core = core_aten_decompositions()
    for name in FFT_CALLS:
        op = getattr(getattr(aten, name, None), "default", None)
        if op in core:
            found[op] = core[op]
    return found


FFT_KINDS = ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")
FFT_CALLS = tuple(f"fft_{kind}{rank}" for kind in FFT_KINDS for rank in ("", "2", "n"))
