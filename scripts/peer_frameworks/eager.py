"""torch eager under no_grad: its outputs are the reference the other peers are checked against."""

from __future__ import annotations

import export_model as em
import peer_frameworks as base

PEER = {
    "rank": 10,  # first: the reference
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

    def call():
        with torch.no_grad():
            return ctx.spec.module(*ctx.spec.inputs)

    outputs = base.timed_run(ctx, entry, call, lambda r: base.to_numpy(em.flat_outputs(r)))
    ctx.reference = outputs

    def one_thread():
        with em.torch_threads(1):
            return base.cpu_times(ctx, call)

    base.one_thread_cpu(entry, one_thread)
    entry["notes"] = "torch eager under no_grad; its outputs are the reference for the other peers"
    if ctx.op_profile:
        entry["op_profile"] = base.guarded(torch_op_profile, call, ctx.repetitions)
    return outputs


def torch_op_profile(call, calls):
    """torch.profiler over `calls` calls: each ATen op's self CPU time (its own work, not its
    children's, so the rows add up) per call, with the weight shape of convolutions (which decides
    pointwise / depthwise / ordinary)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(calls):
            call()

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
