"""How long Docker environments take to make, and how big they are, next to host venvs.

    python benchmarks/images.py [--repeat 3] [--skip-cold-base]

Measures, with a real daemon (run images/setup-host.sh first):
  - the bookworm amd64 base: cold (debootstrap + pack + load, in a scratch cache) and warm
    (tarball and image present), and whether the cold tarball is bit-identical to the cached one;
  - an environment image for iree-base-compiler==3.9.0 from a warm wheelhouse: cold (the tag
    removed first) with and without precompiled .pyc files, and warm (tag present);
  - the same pins installed into a host venv (VenvBackend), cold and warm;
  - the cost of one container per command (`true`, `iree-compile --version`) vs the host venv;
  - image, tarball and venv sizes.
Prints medians over --repeat runs. Not run by the tests: it takes minutes and loads the machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from iree_matrix import images
from iree_matrix.core.system import containers
from iree_matrix.core.system.process_request import Bounds, ProcessRequest
from iree_matrix.envs.cache_usage import default_cache
from iree_matrix.envs.docker import DockerBackend, DockerEnvironment
from iree_matrix.envs.venv import VenvBackend
from iree_matrix.matrix.plan import EnvSpec
from iree_matrix.matrix.wheelhouse import Pins, Wheelhouse

COMPILER = "iree-base-compiler==3.9.0"
SPEC = EnvSpec(kind="compiler", python="3.11", requirements=(COMPILER,), name="bench-iree-compiler3.9.0")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.monotonic()
    value = fn()
    return time.monotonic() - start, value


def median(
    fn: Callable[[], Any], repeat: int, before: Callable[[], None] = lambda: None
) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        before()
        times.append(timed(fn)[0])
    return statistics.median(times), times


def fmt(seconds: float, times: Sequence[float] = ()) -> str:
    spread = f"  (runs: {', '.join(f'{t:.1f}' for t in times)})" if len(times) > 1 else ""
    return f"{seconds:7.1f} s{spread}"


def mb(n: float) -> str:
    return f"{n / 1e6:7.0f} MB"


def image_size(ref: str) -> int:
    found = containers.image(ref)
    assert found is not None, ref
    return found.size


def du(path: Path) -> int:
    return int(subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True).stdout.split()[0])


def bench_base(cache: Path, repeat: int, skip_cold: bool) -> images.BaseImage:
    print("== bookworm amd64 base")
    under = Bounds(timeout=3600)
    cached = images.Bases(cache)
    warm = cached.suite("bookworm", "amd64", under)  # make sure one exists
    if not skip_cold:
        with tempfile.TemporaryDirectory(dir=cache) as scratch:
            fresh = images.Bases(Path(scratch))
            seconds, cold = timed(lambda: fresh.suite("bookworm", "amd64", under))
            alone = cold.meta["debootstrap_seconds"]
            print(f"cold (debootstrap+pack+load) {fmt(seconds)}; debootstrap alone {alone:.1f} s")
            new, old = cold.meta["rootfs_sha256"], warm.meta["rootfs_sha256"]
            same_id = cold.image_id == warm.image_id
            print(f"  new tarball identical to the cached one: {new == old} ({new[:12]} vs {old[:12]}); "
                  f"image ids equal: {same_id}")  # fmt: skip
            if cold.image_id != warm.image_id:
                containers.remove_image(cold.tag)
    m, times = median(lambda: cached.suite("bookworm", "amd64", under), repeat)
    print(f"warm (tarball + image present)  {fmt(m, times)}")
    size = image_size(warm.tag)
    print(f"rootfs tarball {mb(warm.meta['rootfs_bytes'])}; image {mb(size)}")
    return warm


def cold_env_build(
    backend: DockerBackend, spec: EnvSpec, pins: Pins, wheels: list[Path], log: Path, repeat: int
) -> tuple[float, list[float], int]:
    def drop() -> None:
        existing = backend.open(spec, pins.digest)
        if existing is not None:
            containers.remove_image(existing.image.tag)

    def build() -> DockerEnvironment:
        return backend.create(spec, pins, wheels, Bounds(timeout=3600, log=log))

    m, times = median(build, repeat, before=drop)
    return m, times, image_size(build().image.tag)


def bench_env_builds(
    cache: Path, spec: EnvSpec, pins: Pins, wheels: list[Path], log: Path, repeat: int
) -> None:
    for precompile in (True, False):
        backend = DockerBackend(cache, precompile=precompile)
        m, times, size = cold_env_build(backend, spec, pins, wheels, log, repeat)
        label = "with .pyc" if precompile else "no .pyc  "
        print(f"cold build, {label}        {fmt(m, times)}   image {mb(size)}")
    backend = DockerBackend(cache)
    m, times = median(lambda: backend.create(spec, pins, wheels, Bounds(timeout=3600, log=log)), repeat)
    print(f"warm (tag present)           {fmt(m, times)}")


def bench_venv(spec: EnvSpec, pins: Pins, wheels: list[Path], log: Path, repeat: int, scratch: Path) -> Any:
    venvs = VenvBackend(scratch)

    def build() -> Any:
        return venvs.create(spec, pins, wheels, Bounds(timeout=3600, log=log))

    m, times = median(build, repeat, before=lambda: shutil.rmtree(scratch, ignore_errors=True))
    print(f"cold                         {fmt(m, times)}")
    m, times = median(build, repeat)
    venv = build()
    print(f"warm                         {fmt(m, times)}   venv {mb(du(venv.path))}")
    return venv


def bench_commands(env: Any, venv: Any, log: Path, repeat: int) -> None:
    for argv in (["true"], ["iree-compile", "--version"]):
        in_env = [env.tool(argv[0]) if argv[0] != "true" else "true", *argv[1:]]
        in_venv = [venv.tool(argv[0]) if argv[0] != "true" else "true", *argv[1:]]
        d, _ = median(lambda: env.run(ProcessRequest(in_env, timeout=120, log=log)), repeat * 2)  # noqa: B023
        h, _ = median(lambda: venv.run(ProcessRequest(in_venv, timeout=120, log=log)), repeat * 2)  # noqa: B023
        print(f"{' '.join(argv):28} container {d:5.2f} s   host venv {h:5.2f} s")


def bench_env(cache: Path, wheelhouse: Wheelhouse, repeat: int, log: Path) -> None:
    pins = wheelhouse.pin([COMPILER], DockerBackend(cache).target(SPEC), log=log)
    wheels = wheelhouse.fetch(pins, log=log)
    megabytes = sum(w.stat().st_size for w in wheels) / 1e6
    print(f"\n== environment image: {COMPILER} ({len(pins.packages)} wheels, {megabytes:.0f} MB, cached)")
    bench_env_builds(cache, SPEC, pins, wheels, log, repeat)
    env = DockerBackend(cache).create(SPEC, pins, wheels, Bounds(timeout=3600, log=log))
    print("\n== host venv (VenvBackend), same pins")
    with tempfile.TemporaryDirectory() as scratch:
        venv = bench_venv(SPEC, pins, wheels, log, repeat, Path(scratch) / "venvs")
        print("\n== one command (container per call vs host venv)")
        bench_commands(env, venv, log, repeat)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-cold-base", action="store_true", help="do not debootstrap again (~1 min)")
    args = parser.parse_args()
    containers.require()
    cache = default_cache() / "images"
    log = Path(tempfile.mkdtemp(prefix="bench-images-")) / "bench.log"
    version = containers.state().detail.removeprefix("Docker Engine ")
    print(f"docker {version}, {len(os.sched_getaffinity(0))} CPUs, log {log}\n")
    bench_base(cache, args.repeat, args.skip_cold_base)
    bench_env(cache, Wheelhouse(default_cache() / "wheelhouse"), args.repeat, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
