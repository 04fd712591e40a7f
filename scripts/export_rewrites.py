"""The ``rewrite`` choice of an export recipe (export_fx.py): the tool's own rewrites of ops IREE cannot
compile, each the remedy a hint once asked the user to write in their model (iree/op_hints.py), applied
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
    ):
        op = getattr(getattr(aten, packet, None), overload, None)
        if op is not None:
            found[op] = _recording(packet, fn)
    return found
