"""Digests of built reference models, run in a fresh interpreter per setting (ONEDNN_MAX_CPU_ISA and
ATEN_CPU_CAPABILITY are read when torch loads, so a setting needs its own process):

    python model_digests.py SCRIPTS_DIR THREADS[,THREADS...] MODEL [MODEL...]

prints one JSON object: {"<threads>": {"<model>": {"<function>": {"weights": sha256, "inputs":
sha256}}}}, each model built with `build(seed=0)` after `torch.set_num_threads(threads)`. The weights'
digest covers every parameter and every buffer, persistent or not (a non-persistent buffer, such as a
RoPE table, is a constant of the exported MLIR too), by name, dtype, shape and bytes.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import sys


def _update(digest, name, tensor) -> None:
    tensor = tensor.detach().contiguous()
    digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
    digest.update(tensor.numpy().tobytes())


def digests(name: str) -> dict:
    built = importlib.import_module("models." + name).build(seed=0)
    specs = built if isinstance(built, dict) else {"main": built}
    found = {}
    for function, spec in specs.items():
        weights, inputs = hashlib.sha256(), hashlib.sha256()
        for key, tensor in [*spec.module.named_parameters(), *spec.module.named_buffers()]:
            _update(weights, key, tensor)
        for i, tensor in enumerate(spec.inputs):
            _update(inputs, str(i), tensor)
        found[function] = {"weights": weights.hexdigest(), "inputs": inputs.hexdigest()}
    return found


def main(argv: list[str]) -> None:
    scripts, threads, names = argv[0], [int(t) for t in argv[1].split(",")], argv[2:]
    sys.path.insert(0, scripts)
    import torch

    result = {}
    for count in threads:
        torch.set_num_threads(count)
        result[str(count)] = {name: digests(name) for name in names}
        assert torch.get_num_threads() == count, "build() changed the thread count"
        assert torch.get_default_dtype() == torch.float32, "build() changed the default dtype"
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
