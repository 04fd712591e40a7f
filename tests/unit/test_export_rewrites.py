"""The `rewrite` recipe's rewrites (scripts/export_rewrites.py) against torch itself (issue #86):
each exact where it claims to be, and a call outside that left as exported, with a line saying so."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from iree_matrix.core import shipped

torch = pytest.importorskip("torch")
F = torch.nn.functional
sys.path.insert(0, str(shipped.scripts_dir()))
import export_rewrites as rewrites  # noqa: E402 - the worker's module, from the scripts folder


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_and_grid_sample_match_torch(align_corners):
    torch.manual_seed(0)
    theta = torch.randn(2, 2, 3)
    grid = F.affine_grid(theta, [2, 3, 5, 7], align_corners=align_corners)
    assert torch.allclose(rewrites.affine_grid(theta, [2, 3, 5, 7], align_corners), grid, atol=1e-6)
    image, far = torch.randn(2, 3, 5, 7), torch.randn(2, 4, 6, 2) * 1.5  # many samples outside
    for padding, code in (("zeros", 0), ("border", 1)):
        want = F.grid_sample(image, far, "bilinear", padding, align_corners)
        assert torch.allclose(rewrites.grid_sample(image, far, 0, code, align_corners), want, atol=1e-5)


def test_a_call_outside_a_rewrite_is_left_and_said(capsys):
    image, grid = torch.randn(1, 1, 4, 4), torch.rand(1, 2, 2, 2)
    assert rewrites.grid_sample(image, grid, 0, 2, False) is NotImplemented
    assert rewrites.grid_sample(image, grid, 1, 0, False) is NotImplemented
    assert rewrites.affine_grid(torch.randn(1, 3, 4), [1, 1, 2, 2, 2], False) is NotImplemented
    said = capsys.readouterr().err
    assert "grid_sampler left as exported: mode bilinear, padding reflection" in said
    assert "mode nearest, padding zeros" in said and "affine_grid_generator left" in said


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scatter_of_distinct_indices_matches_torch_and_a_repeated_one_is_summed(dim):
    torch.manual_seed(1)
    x = torch.randn(4, 6, 5)
    index = torch.rand(x.shape).argsort(dim).narrow(dim, 0, 2)  # distinct along dim, as topk's
    src = torch.randn(index.shape)
    assert torch.equal(rewrites.scatter_src(x, dim, index, src), x.scatter(dim, index, src))
    repeated = torch.zeros(1, 2, dtype=torch.int64)  # both into position 0: summed (torch: one of them)
    got = rewrites.scatter_src(torch.zeros(1, 3), 1, repeated, torch.tensor([[1.0, 2.0]]))
    assert got.tolist() == [[3.0, 0.0, 0.0]]


def test_the_export_applies_them_and_leaves_the_rest():
    class Net(torch.nn.Module):
        def forward(self, image, theta):
            grid = F.affine_grid(theta, [1, 3, 8, 8], align_corners=False)
            out = F.grid_sample(image, grid, padding_mode="zeros", align_corners=False)
            top, index = out.mean((2, 3)).topk(2, -1)
            gate = torch.zeros_like(out.mean((2, 3))).scatter(-1, index, top)
            return gate, F.grid_sample(image, grid, padding_mode="reflection", align_corners=False)

    args = (torch.randn(1, 3, 8, 8), torch.randn(1, 2, 3))
    with torch.no_grad():
        program = torch.export.export(Net(), args).run_decompositions(rewrites.table())
    ops = {str(n.target) for n in program.graph.nodes if n.op == "call_function"}
    assert not {"aten.affine_grid_generator.default", "aten.scatter.src"} & ops, ops
    assert "aten.grid_sampler.default" in ops  # the reflection's, left
    for got, want in zip(program.module()(*args), Net()(*args)):
        assert torch.allclose(got, want, atol=1e-5)


def test_cdist_p2_by_matmul_matches_torch_and_another_p_is_left_and_said(capsys):
    """p=2 by matmul, within rounding of torch's own (both sides of the 25 rows where torch itself
    switches to the matmul form); p=1 and compute_mode 2 (the direct differences) are left, and said;
    the export of a kNN block applies it."""
    torch.manual_seed(2)
    for rows in (7, 40):
        x, y = torch.randn(2, rows, 3) * 3, torch.randn(2, rows + 3, 3)
        assert torch.allclose(rewrites.cdist(x, y), torch.cdist(x, y), atol=1e-4)
        assert torch.allclose(rewrites.cdist(x, x).diagonal(0, -2, -1), torch.zeros(2, rows), atol=1e-2)
    x = torch.randn(1, 5, 3)
    assert rewrites.cdist(x, x, 1.0) is NotImplemented and rewrites.cdist(x, x, 2.0, 2) is NotImplemented
    said = capsys.readouterr().err
    assert "cdist left as exported: p=1.0" in said and "donot_use_mm" in said

    class Knn(torch.nn.Module):
        def forward(self, pts):
            return torch.cdist(pts, pts).topk(4, -1, largest=False).indices, torch.cdist(pts, pts, p=1)

    pts = torch.randn(1, 32, 3)
    with torch.no_grad():
        program = torch.export.export(Knn(), (pts,)).run_decompositions(rewrites.table())
    ops = [str(n.target) for n in program.graph.nodes if n.op == "call_function"]
    assert ops.count("aten.cdist.default") == 1, ops  # p=1's, left
    got, want = program.module()(pts), Knn()(pts)
    assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])


@pytest.mark.parametrize("kind", ["gaps", "decompose"])
def test_an_interpolate_leaves_no_upsample_op_and_matches_torch(kind):
    """F.interpolate by a scale_factor: IREE's fx import cannot take `upsample_*2d` (its float scales,
    or align_corners=True); both tables write it out as index ops, which compute what torch does."""
    import export_fx

    class Up(torch.nn.Module):
        def forward(self, x):
            near = F.interpolate(x, scale_factor=2.0, mode="nearest")
            return near + F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=True)

    x = torch.randn(1, 2, 5, 3)
    program = torch.export.export(Up(), (x,)).run_decompositions(export_fx.decomposition_table(kind))
    ops = {str(n.target) for n in program.graph.nodes if n.op == "call_function"}
    assert not [op for op in ops if "upsample" in op or "_unsafe_index" in op], ops
    assert torch.allclose(program.module()(x), Up()(x), atol=1e-6)


@pytest.mark.parametrize("largest", [True, False])
def test_topk_by_rounds_of_a_reduction_matches_torch_and_a_large_k_is_left_and_said(largest, capsys):
    """Values and indices equal to torch's, in order, along any dim, for distinct finite values; a k
    past TOPK_MOST and an integer tensor are left (IREE's sort of each row), and said; an export of a
    kNN block has no topk left."""
    torch.manual_seed(3)
    x = torch.randn(2, 64, 40)
    for dim, k in ((-1, 8), (1, 1), (1, rewrites.TOPK_MOST)):
        got, want = rewrites.topk(x, k, dim, largest), x.topk(k, dim, largest)
        assert torch.equal(got[0], want.values) and torch.equal(got[1], want.indices)
    assert rewrites.topk(x, rewrites.TOPK_MOST + 1, -1, largest) is NotImplemented
    assert rewrites.topk(torch.arange(9), 2, -1, largest) is NotImplemented
    said = capsys.readouterr().err
    assert f"topk left as exported: k={rewrites.TOPK_MOST + 1}" in said and "not a float tensor" in said

    class Knn(torch.nn.Module):
        def forward(self, pts):
            return torch.cdist(pts, pts).topk(8, -1, largest=largest)

    pts = torch.randn(1, 64, 3)
    with torch.no_grad():
        program = torch.export.export(Knn(), (pts,)).run_decompositions(rewrites.table())
    ops = [str(n.target) for n in program.graph.nodes if n.op == "call_function"]
    assert not [op for op in ops if "topk" in op or "sort" in op], ops
    got, want = program.module()(pts), Knn()(pts)
    assert torch.equal(got[1], want.indices) and torch.allclose(got[0], want.values, atol=1e-5)


def _same_values(got, want):
    """Equal, NaN where the other has NaN (torch.equal calls NaN unequal)."""
    return (
        got.shape == want.shape
        and torch.equal(got.isnan(), want.isnan())
        and torch.equal(got.nan_to_num(0.0), want.nan_to_num(0.0))
    )


def _holds(x, k, largest):
    """The rewrite's topk against torch's: the same values in the same order (NaN as torch ranks it),
    k distinct places, each holding the value said; places equal to torch's where the values are
    distinct (torch's order among equal values is its sort's, unspecified)."""
    values, indices = rewrites.topk(x, k, -1, largest)
    want = x.topk(k, -1, largest)
    assert _same_values(values, want.values), (values, want.values)
    assert _same_values(x.gather(-1, indices), values)
    for row in indices.tolist():
        assert len(set(row)) == k, indices
    return indices, want.indices


def test_topk_of_a_masked_row_with_k_past_its_finite_count_takes_distinct_places():
    """The issue's kNN row: masked with -inf, k above its finite count. Writing -inf over a taken place
    took place 0 four times (max abs err 260 at the run, stored as IREE's)."""
    inf = float("inf")
    x = torch.tensor([[-inf, 5.0, -inf, -inf, 1.0], [3.0, 2.0, 1.0, 0.0, -1.0]])
    indices, want = _holds(x, 4, True)
    assert indices[:, :2].tolist() == want[:, :2].tolist() == [[1, 4], [0, 1]]
    assert sorted(indices[0, 2:].tolist()) != [0, 0] and indices[1].tolist() == want[1].tolist()
    _holds(-x, 4, False)  # +inf past the finite count of the smallest


def test_topk_ranks_nan_as_torch_does():
    """NaN is the largest in torch.topk: first for the largest, last for the smallest (argmin, as
    argmax, returns a NaN's place first)."""
    nan = float("nan")
    x = torch.tensor([[1.0, nan, 4.0, nan, 2.0], [nan, nan, nan, nan, nan]])
    for largest in (True, False):
        for k in (1, 3, 5):
            indices, want = _holds(x, k, largest)
            number = ~x[0].gather(-1, want[0]).isnan()  # distinct numbers: torch's places (NaNs are ties)
            assert indices[0][number].tolist() == want[0][number].tolist()


@pytest.mark.parametrize("largest", [True, False])
def test_topk_of_ties_takes_each_place_once(largest):
    """Equal values (finite and infinite) fill k distinct places in ascending order."""
    inf = float("inf")
    x = torch.tensor([[2.0, 2.0, 2.0, 1.0, 2.0], [inf, inf, 1.0, -inf, -inf]])
    for k in (2, 4, 5):
        indices, _ = _holds(x, k, largest)
    assert rewrites.topk(x, 5, -1, largest)[1][1].tolist() == (
        [0, 1, 2, 3, 4] if largest else [3, 4, 2, 0, 1]
    )


def test_topk_records_that_it_was_applied():
    """What a recipe's check against eager names: the rewrites the decomposition applied."""

    class Top(torch.nn.Module):
        def forward(self, x):
            return x.topk(2, -1, sorted=False)

    del rewrites.APPLIED[:]
    torch.export.export(Top(), (torch.randn(2, 6),)).run_decompositions(rewrites.table())
    assert rewrites.APPLIED == ["topk"]


def _near(got, want):
    """Equal within 1e-4 of the result's magnitude (a DFT or a one-hot matmul sums in another order)."""
    if got.is_complex():
        got, want = torch.view_as_real(got), torch.view_as_real(want)
    return got.shape == want.shape and (got - want).abs().max() <= 1e-4 * max(want.abs().max(), 1)


def _decomposed(model, args, kind="gaps"):
    """The export with `kind`'s table and the rewrites: its ops, and whether it computes what eager does."""
    import export_fx

    table = export_fx.decomposition_table(kind)
    table.update(rewrites.table())
    del rewrites.APPLIED[:]
    with torch.no_grad():
        program = torch.export.export(model, args).run_decompositions(table)
        rewrites.fold_complex(program)  # as export_fx.decomposed does after the rewrites
        rewrites.split_complex(program)
        got, want = program.module()(*args), model(*args)
    ops = {str(n.target) for n in program.graph.nodes if n.op == "call_function"}
    ops |= {"complex value" for n in program.graph.nodes if n.op != "placeholder" and rewrites._is_complex(n)}
    same = all(_near(g, w) for g, w in zip(got, want)) if isinstance(want, tuple) else _near(got, want)
    return ops, same


@pytest.mark.parametrize("normalization", [0, 1, 2])
def test_the_fft_ops_by_dft_matmuls_match_torch(normalization):
    """torch.fft's calls all come to _fft_r2c / _fft_c2c / _fft_c2r (torch's own decomposition):
    each by real and imaginary DFT matrices, for odd and even sizes, one or more dims, both ways."""
    torch.manual_seed(4)
    aten = torch.ops.aten
    x, z = torch.randn(2, 3, 7, 10), torch.randn(2, 3, 7, 10, dtype=torch.complex64)
    for dims in ([3], [2], [1, 3], [2, 3]):
        for onesided in (True, False):
            want = aten._fft_r2c(x, dims, normalization, onesided)
            assert _near(rewrites.fft_r2c(x, dims, normalization, onesided), want)
        for forward in (True, False):
            want = aten._fft_c2c(z, dims, normalization, forward)
            assert _near(rewrites.fft_c2c(z, dims, normalization, forward), want)
        for n in (9, 10):  # the conjugate half counted twice but for the first (and an even n's middle) term
            half = torch.fft.rfftn(torch.randn(2, 3, n, n), dim=dims)
            for size in (n, n - 1 if n % 2 else n + 1):
                want = aten._fft_c2r(half, dims, normalization, size)
                assert _near(rewrites.fft_c2r(half, dims, normalization, size), want)


def test_an_fno_block_exports_with_no_fft_op_and_a_large_one_is_left_and_said(capsys):
    """A Fourier layer (rfft2, a product with complex weights on the low modes, irfft2) and the 1-D
    calls with n and norm: no fft op and no complex value left by either table (split_complex: the
    model's complex product, its zeros and slice_scatter on real pairs; only the complex parameter
    stays, taken by view_as_real). A transform past FFT_MOST points is left, and said."""

    class Fourier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = torch.nn.Parameter(torch.randn(3, 3, 4, 3, dtype=torch.cfloat) / 9)

        def forward(self, x):
            spectrum = torch.fft.rfft2(x, norm="ortho")
            out = torch.zeros(x.shape[0], 3, x.shape[2], x.shape[3] // 2 + 1, dtype=torch.cfloat)
            out[:, :, :4, :3] = torch.einsum("bixy,ioxy->boxy", spectrum[:, :, :4, :3], self.weights)
            y = torch.fft.irfft2(out, s=x.shape[-2:], norm="ortho")
            line = torch.fft.ifft(torch.fft.fft(x, n=12, dim=2), norm="forward").real
            return y, line, torch.fft.irfft(torch.fft.rfft(x), n=7).abs()

    args = (torch.randn(2, 3, 9, 10),)
    for kind in ("gaps", "decompose"):
        ops, same = _decomposed(Fourier(), args, kind)
        assert same and not [op for op in ops if "fft" in op or "complex" in op], ops
        assert rewrites.APPLIED == ["_fft_r2c", "_fft_c2r", "_fft_c2c"]

    class Magnitude(torch.nn.Module):  # abs of a complex value: no pair rule, so the program is left whole
        def forward(self, x):
            return torch.fft.rfft(x).abs()

    ops, same = _decomposed(Magnitude(), args)
    assert same and "complex value" in ops and not [op for op in ops if "fft" in op], ops
    long = torch.randn(1, rewrites.FFT_MOST + 1)
    assert rewrites.fft_r2c(long, [1], 0, True) is NotImplemented
    said = capsys.readouterr().err
    assert f"_fft_r2c left as exported: a transform of [{rewrites.FFT_MOST + 1}] points" in said


@pytest.mark.parametrize("align_corners", [False, True])
def test_bicubic_resize_by_two_matmuls_matches_torch(align_corners):
    """F.interpolate bicubic by size or by scale factors (up, down, uneven): each axis's matrix of four
    taps clamped to the image, as torch computes it; the export holds no upsample op."""
    torch.manual_seed(5)
    x = torch.randn(2, 3, 5, 7)
    for size in ((11, 4), (1, 1), (5, 7)):
        want = F.interpolate(x, size=size, mode="bicubic", align_corners=align_corners)
        assert _near(rewrites.upsample_bicubic(x, list(size), align_corners), want)
    for factors in ((2.0, 2.0), (1.7, 0.6)):
        want = F.interpolate(x, scale_factor=factors, mode="bicubic", align_corners=align_corners)
        assert _near(rewrites.upsample_bicubic_vec(x, None, align_corners, list(factors)), want)

    class Up(torch.nn.Module):
        def forward(self, x):
            return F.interpolate(x, scale_factor=1.5, mode="bicubic", align_corners=align_corners)

    ops, same = _decomposed(Up(), (x,))
    assert same and not [op for op in ops if "upsample" in op], ops


@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_amax_amin_by_a_masked_one_hot_match_torch(include_self, capsys):
    """Repeated indices (the GNN's several edges into one node), places no index writes, any dim, float
    and int; another reduction and a one-hot past SCATTER_MOST are left, and said."""
    torch.manual_seed(6)
    for reduce in ("amax", "amin"):
        for dim in (0, 1, -1):
            x = torch.randn(4, 6, 5)
            shape = list(x.shape)
            shape[dim] = 9
            index, src = torch.randint(0, x.shape[dim], shape), torch.randn(shape)
            want = x.scatter_reduce(dim, index, src, reduce, include_self=include_self)
            assert torch.equal(rewrites.scatter_reduce(x, dim, index, src, reduce, include_self), want)
        counts, index, src = (
            torch.randint(-5, 5, (4, 6)),
            torch.randint(0, 4, (3, 6)),
            torch.randint(9, (3, 6)),
        )
        want = counts.scatter_reduce(0, index, src, reduce, include_self=include_self)
        assert torch.equal(rewrites.scatter_reduce(counts, 0, index, src, reduce, include_self), want)
    x = torch.randn(4, 6)
    assert rewrites.scatter_reduce(x, 0, torch.zeros(3, 6, dtype=torch.int64), x[:3], "sum") is NotImplemented
    wide = torch.zeros(rewrites.SCATTER_MOST // 8 + 1, 1, dtype=torch.int64)
    assert rewrites.scatter_reduce(torch.zeros(8, 1), 0, wide, wide.float(), "amax") is NotImplemented
    said = capsys.readouterr().err
    assert "scatter_reduce left as exported: reduce='sum'" in said and "(one-hot past" in said


def test_index_add_by_a_one_hot_matmul_matches_torch_and_a_gnn_exports_without_either(capsys):
    """Repeated indices, any dim, alpha; an integer tensor is left and said; a message pass (amax of
    the messages into each node, its degree by index_add_) exports with neither op left."""
    torch.manual_seed(7)
    for dim in (0, 1, 2):
        x = torch.randn(4, 6, 5)
        shape = list(x.shape)
        shape[dim] = 11
        index, source = torch.randint(0, x.shape[dim], (11,)), torch.randn(shape)
        for alpha in (1, 0.5):
            want = x.index_add(dim, index, source, alpha=alpha)
            assert _near(rewrites.index_add(x, dim, index, source, alpha), want)
    ints = torch.zeros(3, dtype=torch.int64)
    assert rewrites.index_add(ints, 0, ints[:2], ints[:2] + 1) is NotImplemented
    assert "index_add left as exported: not a float tensor" in capsys.readouterr().err

    class MessagePass(torch.nn.Module):
        def forward(self, h, edges):
            messages = h[edges[0]]
            into = edges[1].unsqueeze(-1).expand_as(messages)
            pooled = torch.zeros_like(h).scatter_reduce(0, into, messages, "amax", include_self=False)
            degree = torch.zeros(h.shape[0]).index_add_(0, edges[1], torch.ones(edges.shape[1]))
            return pooled, degree

    ops, same = _decomposed(MessagePass(), (torch.randn(6, 4), torch.randint(0, 6, (2, 15))))
    assert same and not [op for op in ops if "scatter" in op or "index_add" in op], ops
    assert rewrites.APPLIED == ["scatter_reduce", "index_add"]


def test_an_fnet_mixing_exported_by_the_recipe_holds_no_complex_value(monkeypatch):
    """`torch.fft.fft2(x).real` (tests/data/routes/fft_mix.py) by the recipe's own export path: the
    real input made complex and the result taken apart again are folded to their real parts
    (fold_complex), so no fft op and no complex value is left, by either table, and it matches torch."""
    import export_fx

    monkeypatch.syspath_prepend(str(Path(__file__).parents[1] / "data" / "routes"))
    import fft_mix

    spec = fft_mix.build()
    for chosen in (("fx", "rewrite"), ("fx", "decompose", "rewrite")):
        nodes = [n for n in export_fx.decomposed(spec, chosen).graph.nodes if n.op == "call_function"]
        complex_ = [n for n in nodes if getattr(n.meta.get("val"), "is_complex", lambda: False)()]
        assert not complex_ and not [n for n in nodes if "fft" in str(n.target)], nodes
        with torch.no_grad():
            assert _near(export_fx.MADE[0](*spec.inputs), spec.module(*spec.inputs))
