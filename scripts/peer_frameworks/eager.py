"""torch eager under no_grad, each call on its own copy of the inputs as built: checked, like every
peer, against torch's reference (the model's first call, peers.torch_reference)."""

from __future__ import annotations

import export_model as em
import peer_frameworks as base

PEER = {
    "rank": 10,  # first: the model itself, timed
    "display": "torch eager",
    "requirements": (),  # torch alone
    "distributions": (),
    "shown": (),  # torch is always shown
    "op_kinds": "torch",  # torch.profiler's ATen ops
    "one_thread": "under `torch.set_num_threads(1)`",
}


def run(ctx, entry):
    import torch

    torch.set_num_threads(ctx.threads)

    def call(*inputs):
        with torch.no_grad():
            return ctx.spec.module(*inputs)

    outputs = base.timed_run(
        ctx, entry, call, lambda r: base.to_numpy(em.flat_outputs(r)), arguments=ctx.inputs
    )

    def one_thread():
        with em.torch_threads(1):
            return base.cpu_times(ctx, call, arguments=ctx.inputs)

    base.one_thread_cpu(entry, one_thread)
    entry["notes"] = "torch eager under no_grad, each call on a fresh copy of the inputs as built"
    if ctx.op_profile:
        entry["op_profile"] = base.guarded(torch_op_profile, call, ctx.repetitions, ctx.inputs)
    return outputs


def torch_op_profile(call, calls, arguments):
    """torch.profiler over `calls` calls (each on its own `arguments()`, made before the profile so
    their copying is not profiled): each ATen op's self CPU time (its own work, not its children's, so
    the rows add up) per call, with the weight shape of convolutions (which decides pointwise /
    depthwise / ordinary)."""
    from torch.profiler import ProfilerActivity, profile

    given = [arguments() for _ in range(calls)]
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for args in given:
            call(*args)

    def samples():
        for event in prof.key_averages(group_by_input_shape=True):
            if event.self_cpu_time_total <= 0:
                continue
            shapes = list(event.input_shapes or [])
            weight = None
            if "conv" in event.key and len(shapes) > 1 and shapes[1]:
                weight = [int(d) for d in shapes[1]]
            yield event.key, weight, event.self_cpu_time_total / 1000.0, event.count

    return {"source": "torch.profiler self CPU time", "calls": calls, **base.ops_per_call(samples(), calls)}
