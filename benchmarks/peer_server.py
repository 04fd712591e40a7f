"""One peer held open for interleaved timing (used by benchmarks/user_view.py).

Runs scripts/peers.py's own code for one peer (conversion, session, inputs, threads, the comparison
with torch eager) in the peer environment, but where peers.py would time its repetitions it serves
requests instead: it prints `@@ ready`, then for each line `time K` on stdin times K calls and
prints `@@ [ms, ...]`; on `end` it returns those times to peers.py, which compares the outputs
with torch eager, and prints `@@ {the peer's entry}` (status, matches, max errors). The model
arguments are peers.py's:

    PEER_PYTHON benchmarks/peer_server.py --scripts scripts --peer onnxruntime \\
        --module models.mobilenet_v2 --import-root scripts --threads 2 --out DIR
"""

from __future__ import annotations

import json
import sys
import time


def main(argv: list[str]) -> int:
    scripts = argv[argv.index("--scripts") + 1]
    peer = argv[argv.index("--peer") + 1]
    rest = [
        a
        for i, a in enumerate(argv)
        if a not in ("--scripts", "--peer") and argv[i - 1] not in ("--scripts", "--peer")
    ]
    sys.path.insert(0, scripts)
    import peers  # scripts/peers.py

    def serve(call, warmup, repetitions, clock=time.perf_counter):  # peers.time_calls' signature
        result = None
        for _ in range(warmup):
            result = call()
        times: list[float] = []
        print("@@ ready", flush=True)
        for line in sys.stdin:
            command = line.split()
            if not command or command[0] == "end":
                break
            batch = []
            for _ in range(int(command[1])):
                start = clock()
                result = call()
                batch.append((clock() - start) * 1000.0)
            times.extend(batch)
            print("@@ " + json.dumps(batch), flush=True)
        if result is None:
            result = call()
        return result, times or [0.0]

    peers.time_calls = serve
    args = peers.build_parser().parse_args([*rest, "--peers", peer, "--warmup", "2"])
    spec = peers.em.load_model(args)
    from pathlib import Path

    Path(args.out).mkdir(parents=True, exist_ok=True)
    result = peers.run(args, spec)
    entry = result["peers"][peer]
    entry.pop("latency_ms", None)
    print(
        "@@ "
        + json.dumps({k: entry.get(k) for k in ("status", "matches", "max_abs_err", "max_rel_err", "error")}),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
