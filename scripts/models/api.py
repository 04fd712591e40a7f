"""The protocol every reference model module follows.

A model module (for example ``models.mobilenet_v2``) defines:

``build(seed: int = 0) -> ModelSpec`` or ``-> Dict[str, ModelSpec]``
    A dict means a model with several functions (an encoder and one decoder step; a prefill and
    one decode step): each entry is exported, compiled, run, checked and timed on its own, and
    its key (a Python identifier) names it in the results; the module then also declares
    ``FUNCTIONS = ("encoder", "decoder_step")`` so the planner knows them without importing
    torch. Construct the model with weights drawn deterministically from ``seed``, put it in
    ``eval()`` mode, and return it together with example inputs that are also deterministic from
    ``seed``. Calling ``build`` twice with the same seed in the same environment gives
    bit-identical weights, inputs and outputs. ``build`` does not touch the caller's global RNG
    state, default dtype or thread count. The reference models draw and calibrate inside
    :func:`exactly` and hand the results to :func:`to_float32`, so their weights and inputs are the
    same bits whatever torch's thread count and whatever CPU builds them (a user's model may do
    the same; :func:`seeded` alone makes them deterministic only on one machine and thread count).

``PARAMETERS: int``
    The model's parameter count (trainable parameters; BatchNorm running statistics are buffers
    and do not count). For published architectures it is the published number, and the test
    suite checks ``count_parameters(build().module) == PARAMETERS``.

The harness exports ``spec.module`` with ``iree.turbine.aot.export(spec.module, *spec.inputs)``,
computes the reference with ``spec.module(*spec.inputs)`` under ``torch.no_grad()``, and accepts
IREE's output when ``numpy.allclose(iree, torch, rtol=spec.rtol, atol=spec.atol)``.

This module imports only the standard library and torch, and keeps Python 3.9 syntax, because
it runs inside every matrix environment.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any, Callable, Iterator, Tuple

import torch

__all__ = [
    "ModelSpec",
    "calibrate_batchnorm",
    "calibrated",
    "count_parameters",
    "exactly",
    "seeded",
    "to_float32",
]


@dataclasses.dataclass
class ModelSpec:
    """A built model, its example inputs and the tolerance its IREE output is held to."""

    module: torch.nn.Module
    """The model, already in ``eval()`` mode."""
    inputs: Tuple[torch.Tensor, ...]
    """Example inputs, deterministic from the seed."""
    atol: float
    """Absolute tolerance: passes if ``numpy.allclose(iree, torch, rtol=rtol, atol=atol)``."""
    rtol: float
    """Relative tolerance, see ``atol``."""
    description: str = ""


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's CPU generator for the duration of the block, then restore the caller's state.

    Everything drawn from the default generator inside the block (module initialisation,
    ``torch.randn`` ...) is deterministic from ``seed``.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@contextlib.contextmanager
def exactly(seed: int) -> Iterator[None]:
    """:func:`seeded`, with every tensor made in float64, on one thread and without oneDNN, so what
    the block makes is a function of ``seed`` alone; restores the caller's settings afterwards.

    Why: a model's weights are made by computation, not only drawn. A BatchNorm's running
    statistics are a forward pass's reductions, a decode step's example caches are a prefill's
    outputs, and even ``torch.randn`` in float32 computes (its Box-Muller transform is vectorised
    in ATen's AVX2/AVX-512 kernels and scalar in the default one). In float32 those bits depend on
    torch's thread count (how a reduction is split), on the oneDNN kernels the CPU's ISA selects
    and on ATen's CPU capability: MobileNetV2's calibrated state dict had one sha256 with 1 thread
    and another with 2, and others under ``ONEDNN_MAX_CPU_ISA=AVX2`` and
    ``ATEN_CPU_CAPABILITY=default``, so a matrix's ``threads`` and the exporting machine changed
    the model under test (issue #51). In float64 on one thread the same computations still differ
    between CPUs, but only in a double's last bits (a sum's order with the vector width, MKL's
    kernels, a fused multiply-add): about 1e-16 relative where float32's spacing is 6e-8, so
    :func:`to_float32` rounds them to the same float32 except with a probability of that order
    per number (measured: MobileNetV2's and QuartzNet's float64 state dicts differ in 32,288 and
    3,535,407 values between ATen's default and AVX-512 kernels, their float32 roundings in
    none). ``tests/processes/test_model_determinism.py`` builds the models under each setting and
    compares the hashes.

    Inside the block ``torch.get_default_dtype()`` is float64: modules constructed and tensors
    drawn there are float64 (code that names ``torch.float32`` explicitly is not, and should
    follow the default or its input's dtype instead).
    """
    threads = torch.get_num_threads()
    dtype = torch.get_default_dtype()
    # the flag itself, not ``torch.backends.mkldnn.flags()``: that context manager's arguments
    # change between torch releases and, from 2.9 on, it also resets TF32 settings (and warns)
    onednn = torch.backends.mkldnn.enabled
    with seeded(seed):
        torch.set_num_threads(1)
        torch.set_default_dtype(torch.float64)
        torch.backends.mkldnn.enabled = False
        try:
            yield
        finally:
            torch.backends.mkldnn.enabled = onednn
            torch.set_default_dtype(dtype)
            torch.set_num_threads(threads)


def to_float32(value: Any) -> Any:
    """What :func:`exactly` made, as float32: a module's floating-point parameters and buffers
    cast in place (the module is returned), a floating-point tensor cast (an integer one kept), a
    tuple or list of them element by element."""
    if isinstance(value, torch.nn.Module):
        return value.float()
    if isinstance(value, torch.Tensor):
        return value.float() if value.is_floating_point() else value
    if isinstance(value, (tuple, list)):
        return type(value)(to_float32(v) for v in value)
    raise TypeError(f"to_float32: a module, a tensor or a tuple of them, not {type(value).__name__}")


def count_parameters(module: torch.nn.Module) -> int:
    """Number of parameters of ``module`` (buffers such as BatchNorm statistics excluded)."""
    return sum(p.numel() for p in module.parameters())


_BN_TYPES = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d)


def calibrated(
    make: Callable[[], torch.nn.Module],
    input_shape: Tuple[int, ...],
    seed: int,
    *,
    calibration_batch: int = 4,
) -> Tuple[torch.nn.Module, torch.Tensor]:
    """The usual build of a single-input model: inside :func:`exactly`, construct it, calibrate
    its BatchNorm layers on a random batch of ``calibration_batch`` inputs, then draw the example
    input (in that order, so weights and input are fixed by the seed); returned in float32 and
    in eval mode."""
    with exactly(seed):
        model = make()
        calibrate_batchnorm(model, torch.randn((calibration_batch,) + tuple(input_shape[1:])))
        x = torch.randn(input_shape)
    model = to_float32(model)
    model.eval()
    return model, to_float32(x)


@torch.no_grad()
def calibrate_batchnorm(module: torch.nn.Module, *batch: torch.Tensor) -> None:
    """Give every BatchNorm layer non-trivial, deterministic affine parameters and statistics.

    A freshly initialised BatchNorm is the identity in eval mode (weight 1, bias 0, mean 0,
    var 1): a compiler that mishandled the BatchNorm arithmetic would go unnoticed, and
    activations drift in scale through a deep network. This:

    1. draws each BatchNorm's ``weight`` from U(0.5, 1.5) and ``bias`` from N(0, 0.1^2), using
       the default generator (call it inside :func:`seeded`);
    2. runs ``batch`` once through ``module`` with only the BatchNorm layers in training mode
       and ``momentum=None`` (cumulative average), so ``running_mean``/``running_var`` become the
       real per-channel statistics of that batch (dropout stays off);
    3. leaves the whole module in ``eval()`` mode.

    The result is an eval-mode network whose activations stay roughly unit-scale, with
    per-channel means and variances that differ from 0 and 1.
    """
    bns = [m for m in module.modules() if isinstance(m, _BN_TYPES)]
    saved_momentum = []
    for bn in bns:
        if bn.affine:
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_(0.0, 0.1)
        bn.reset_running_stats()
        saved_momentum.append(bn.momentum)
        bn.momentum = None
    module.eval()
    for bn in bns:
        bn.train()
    try:
        module(*batch)
    finally:
        for bn, momentum in zip(bns, saved_momentum):
            bn.momentum = momentum
        module.eval()
