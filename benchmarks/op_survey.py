"""Which common torch ops an IREE release compiles, and what the tool says of those it cannot:
one tiny module per op (torch 2.13.0 on CPU, turbine's `aot.export`), compiled for llvm-cpu by the
`iree-compile` given; where that fails, the first error (iree_matrix.iree.compile_errors), the hint
the tool gives it (iree_matrix.iree.hints), and the same module by the `fx+decompose` recipe
(scripts/export_fx.py: torch's own decompositions), compiled again. One JSON line per op, then a
summary. The hints `window-function`, `sort-select`, `linalg-op`, `vdot` and `float64` came from its
first run (issue #69; lab/measurements.md, "op survey"):

    PYTHONPATH=src:scripts python benchmarks/op_survey.py PATH/TO/iree-compile [OP ...]

(the dev venv's torch and turbine; an iree-compile of the store's environments, e.g.
~/.cache/iree-matrix/envs/venv/py3.11-iree-compiler3.13.0-*/bin/iree-compile)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import torch
import torch.nn.functional as F  # noqa: N812
from iree.turbine import aot

import export_fx
from iree_matrix.iree import compile_errors, hints

torch.manual_seed(0)
x4 = torch.randn(1, 3, 8, 8)
x2 = torch.randn(4, 4)
v = torch.randn(16)
spd = (lambda a: a @ a.T + 4 * torch.eye(4))(torch.randn(4, 4))
CASES = {
    "linalg.inv": (lambda a: torch.linalg.inv(a), (spd,)),
    "linalg.solve": (lambda a: torch.linalg.solve(a, torch.ones(4, 1)), (spd,)),
    "linalg.cholesky": (lambda a: torch.linalg.cholesky(a), (spd,)),
    "linalg.det": (lambda a: torch.linalg.det(a), (spd,)),
    "linalg.slogdet": (lambda a: torch.linalg.slogdet(a)[1], (spd,)),
    "linalg.solve_triangular": (
        lambda a: torch.linalg.solve_triangular(torch.tril(a), torch.ones(4, 1), upper=False),
        (spd,),
    ),
    "linalg.qr": (lambda a: torch.linalg.qr(a)[0], (spd,)),
    "linalg.eigh": (lambda a: torch.linalg.eigh(a)[0], (spd,)),
    "linalg.svd": (lambda a: torch.linalg.svdvals(a), (spd,)),
    "cumsum": (lambda a: torch.cumsum(a, 0), (v,)),
    "cumprod": (lambda a: torch.cumprod(a, 0), (v,)),
    "logcumsumexp": (lambda a: torch.logcumsumexp(a, 0), (v,)),
    "bucketize": (lambda a: torch.bucketize(a, torch.linspace(-2, 2, 9)), (v,)),
    "searchsorted": (lambda a: torch.searchsorted(torch.linspace(-2, 2, 9), a), (v,)),
    "sort": (lambda a: torch.sort(a)[0], (v,)),
    "argsort": (lambda a: torch.argsort(a), (v,)),
    "median": (lambda a: torch.median(a), (v,)),
    "kthvalue": (lambda a: torch.kthvalue(a, 3)[0], (v,)),
    "roll": (lambda a: torch.roll(a, 2, 0), (v,)),
    "flip": (lambda a: torch.flip(a, (0,)), (v,)),
    "unfold": (lambda a: F.unfold(a, 3, padding=1), (x4,)),
    "fold": (lambda a: F.fold(F.unfold(a, 2, stride=2), (8, 8), 2, stride=2), (x4,)),
    "interp-bicubic": (lambda a: F.interpolate(a, scale_factor=2, mode="bicubic"), (x4,)),
    "interp-bilinear-aa": (lambda a: F.interpolate(a, size=(4, 4), mode="bilinear", antialias=True), (x4,)),
    "interp-nearest": (lambda a: F.interpolate(a, scale_factor=2, mode="nearest"), (x4,)),
    "interp-bilinear": (
        lambda a: F.interpolate(a, scale_factor=2, mode="bilinear", align_corners=False),
        (x4,),
    ),
    "complex-rotary": (
        lambda a: torch.view_as_real(
            torch.view_as_complex(a.reshape(8, 2)) * torch.polar(torch.ones(8), torch.arange(8.0))
        ).flatten(),
        (v,),
    ),
    "erfinv": (lambda a: torch.erfinv(a.tanh() * 0.9), (v,)),
    "lgamma": (lambda a: torch.lgamma(a.abs() + 1), (v,)),
    "digamma": (lambda a: torch.digamma(a.abs() + 1), (v,)),
    "atan2": (lambda a: torch.atan2(a, a.flip(0)), (v,)),
    "remainder": (lambda a: torch.remainder(a, 0.7), (v,)),
    "histc": (lambda a: torch.histc(a, 8, -2, 2), (v,)),
    "pixel_unshuffle": (lambda a: F.pixel_unshuffle(a, 2), (x4,)),
    "adaptive_max_pool": (lambda a: F.adaptive_max_pool2d(a, 3), (x4,)),
    "adaptive_avg_pool-odd": (lambda a: F.adaptive_avg_pool2d(a, 3), (x4,)),
    "avg_pool-ceil": (lambda a: F.avg_pool2d(a, 3, 2, ceil_mode=True, count_include_pad=False), (x4,)),
    "max_pool-indices": (lambda a: F.max_pool2d(a, 2, return_indices=True)[1].float(), (x4,)),
    "conv3d": (torch.nn.Conv3d(3, 4, 3, padding=1), (torch.randn(1, 3, 4, 8, 8),)),
    "convT-groups": (
        torch.nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1, output_padding=1, groups=2),
        (torch.randn(1, 4, 8, 8),),
    ),
    "rnn-tanh": (torch.nn.RNN(4, 8, batch_first=True), (torch.randn(1, 5, 4),)),
    "float64-mlp": (torch.nn.Linear(4, 4).double(), (torch.randn(2, 4, dtype=torch.float64),)),
    "half-linear": (torch.nn.Linear(4, 4).half(), (torch.randn(2, 4).half(),)),
    "index_put-acc": (
        lambda a: torch.zeros(4).index_put((torch.tensor([0, 1, 1, 3]),), a[:4], accumulate=True),
        (v,),
    ),
    "trapz": (lambda a: torch.trapezoid(a), (v,)),
    "istft": (
        lambda a: torch.istft(
            torch.stft(a, 8, return_complex=True, window=torch.hann_window(8)), 8, window=torch.hann_window(8)
        ),
        (torch.randn(64),),
    ),
    "cross": (lambda a: torch.linalg.cross(a.reshape(-1, 3)[:4], a.reshape(-1, 3)[1:5]), (torch.randn(18),)),
    "baddbmm": (lambda a: torch.baddbmm(a, a, a), (torch.randn(2, 4, 4),)),
    "renorm-weight_norm": (torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(4, 4)), (x2,)),
    "spectral_norm": (torch.nn.utils.parametrizations.spectral_norm(torch.nn.Linear(4, 4)).eval(), (x2,)),
    "nan_to_num": (lambda a: torch.nan_to_num(a / (a - a)), (v,)),
    "clamp-tensor": (lambda a: torch.clamp(a, min=a.flip(0)), (v,)),
    "logsumexp": (lambda a: torch.logsumexp(a.reshape(4, 4), 1), (v,)),
    "amax-multi": (lambda a: torch.amax(a, (2, 3)), (x4,)),
    "std-var": (lambda a: torch.std(a, 1) + torch.var(a, 1, unbiased=False), (x2,)),
    "mode": (lambda a: torch.mode(a.round())[0], (v,)),
}


class Wrap(torch.nn.Module):
    def __init__(self, f):
        super().__init__()
        self.inner = f if isinstance(f, torch.nn.Module) else None
        self.f = f

    def forward(self, *a):
        return self.f(*a)


def compiled(compiler: str, text: str) -> str:
    """ "ok", or the compile's first error as the tool says it."""
    with tempfile.TemporaryDirectory() as d:
        mlir = Path(d) / "model.mlir"
        mlir.write_text(text)
        argv = [compiler, str(mlir), "--iree-hal-target-backends=llvm-cpu", "-o", str(Path(d) / "m.vmfb")]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if done.returncode == 0:
        return "ok"
    named = compile_errors.first_error(done.stdout + done.stderr)
    return named.text() if named else (done.stderr.strip().splitlines() or ["?"])[-1][:200]


def first_line(exc: Exception) -> str:
    return "EXPORT: " + (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def survey(compiler: str, name: str) -> dict[str, object]:
    f, args = CASES[name]
    module = Wrap(f).eval()
    row: dict[str, object] = {"op": name}
    try:
        with torch.no_grad():
            row["default"] = compiled(compiler, str(aot.export(module, *args).mlir_module))
    except Exception as exc:  # the export's own failure is a finding
        row["default"] = first_line(exc)
    if row["default"] != "ok":
        said = str(row["default"])
        found = hints.find(said, "export" if said.startswith("EXPORT") else "compile")
        row["hint"] = found.name if found else None
        try:
            spec = SimpleNamespace(module=module, inputs=list(args))
            row["fx+decompose"] = compiled(compiler, str(export_fx.export(spec, "fx+decompose")))
        except Exception as exc:
            row["fx+decompose"] = first_line(exc)
    return row


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.split("\n\n")[-2], file=sys.stderr)
        return 2
    rows = [survey(argv[0], name) for name in (argv[1:] or list(CASES))]
    for row in rows:
        print(json.dumps(row), flush=True)
    failed = [r for r in rows if r["default"] != "ok"]
    routed = [r["op"] for r in failed if r.get("fx+decompose") == "ok"]
    hinted = [r["op"] for r in failed if r.get("hint")]
    alone = [r["op"] for r in failed if r.get("fx+decompose") != "ok" and not r.get("hint")]
    print(f"{len(rows)} ops: {len(rows) - len(failed)} compile; {len(failed)} fail, of which "
          f"fx+decompose compiles {len(routed)} ({', '.join(map(str, routed))}), a hint names "
          f"{len(hinted)}; no route and no hint: {len(alone)} ({', '.join(map(str, alone))})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
