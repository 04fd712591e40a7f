"""torch.compile(module, backend="inductor"): the first call is the compile."""

from __future__ import annotations

import os
import shutil
import tempfile
import time

import export_model as em
import peer_frameworks as base

PEER = {
    "rank": 20,
    "display": "torch.compile",
    "requirements": (),  # torch alone
    "distributions": (),
    "shown": (),
    "op_kinds": None,  # inductor fuses ops into generated kernels
    "one_thread": "under `torch.set_num_threads(1)`",  # compiled again under it
}


def run(ctx, entry):
    import torch

    def import_inductor():
        import torch._inductor  # noqa: F401  (fails early on builds without inductor)

    entry["_phase"] = "import"
    import_inductor()
    torch.set_num_threads(ctx.threads)
    # A fresh inductor cache, so convert_seconds is a cold compile whatever ran before.
    cache = tempfile.mkdtemp(prefix="peers-inductor-")
    saved = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache
    try:
        compiled = torch.compile(ctx.spec.module, backend="inductor")

        # the compiled graph keeps the model's in-place changes to its inputs: each call its own copy
        def call(*inputs):
            with torch.no_grad():
                return compiled(*inputs)

        entry["_phase"] = "convert"
        start = time.perf_counter()
        call(*ctx.inputs())  # torch.compile is lazy: the first call traces and compiles
        entry["convert_seconds"] = time.perf_counter() - start
        outputs = base.timed_run(
            ctx, entry, call, lambda r: base.to_numpy(em.flat_outputs(r)), arguments=ctx.inputs
        )

        def one_thread():
            with em.torch_threads(1):
                if ctx.threads == 1:
                    return base.cpu_times(ctx, call, arguments=ctx.inputs)
                # inductor's C++ kernels fix their OpenMP thread count when compiled: compile again
                torch._dynamo.reset()
                single = torch.compile(ctx.spec.module, backend="inductor")

                def call_single(*inputs):
                    with torch.no_grad():
                        return single(*inputs)

                call_single(*ctx.inputs())  # the compile, untimed
                return base.cpu_times(ctx, call_single, arguments=ctx.inputs)

        base.one_thread_cpu(entry, one_thread)
    finally:
        if saved is None:
            os.environ.pop("TORCHINDUCTOR_CACHE_DIR", None)
        else:
            os.environ["TORCHINDUCTOR_CACHE_DIR"] = saved
        shutil.rmtree(cache, ignore_errors=True)
        try:
            torch._dynamo.reset()
        except Exception:  # cleanup only
            pass
    entry["notes"] = (
        "inductor, CPU, under no_grad; convert_seconds is the first call (cold cache: trace + compile + run)"
    )
    if ctx.op_profile:
        entry["op_profile"] = {
            "unavailable": "inductor fuses ops into generated kernels; not profiled per op"
        }
    return outputs
