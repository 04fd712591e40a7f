"""runtime-build: IREE's runtime built from source with cmake for a `src:<release>` runtime, once per
source, toolchain, target, linkage and options; a runtime environment's install takes its tools.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from iree_matrix.core.atomic_files import read_json, write_json
from iree_matrix.core.errors import StageFailure, UserError
from iree_matrix.core.model.metrics.runtime_build import RuntimeBuildMetrics
from iree_matrix.core.model.outcome import Outcome
from iree_matrix.core.model.records import Labels
from iree_matrix.core.model.results import Status
from iree_matrix.iree import targets, versions
from iree_matrix.matrix.plan import Builder, EnvSpec, Job
from iree_matrix.source_builds import cmake_runtime
from iree_matrix.stages.artifacts import TOOLS
from iree_matrix.stages.base import Context, Stage


class RuntimeBuildStage(Stage):
    name = "runtime-build"
    rank = 10
    optional = True
    timeout = 3600.0
    metrics = RuntimeBuildMetrics.described()

    def provide(self, builder: Builder, env: EnvSpec) -> str:
        """The job that builds `env.build` ("src:3.9.0+static") for `env.arch` from IREE's source;
        a cross build first needs the plain native build of the same source, for its host tools."""
        assert env.build is not None
        release, build_options = versions.parse_source_runtime(env.build)
        deps: tuple[str, ...] = ()
        host = targets.host_arch()
        if env.arch != host:
            native = dataclasses.replace(env, build=versions.source_runtime(release), arch=host)
            deps = (builder.need(self.name, native),)
        labels = Labels(
            runtime=env.build,
            arch=env.arch,
            runtime_source=builder.spec.iree_source(release),
            linkage="static" if "static" in build_options else "dynamic",
        ).as_dict()
        toolchain = EnvSpec("toolchain", env.python, (), f"toolchain-{env.arch}", targets.host_arch())
        return builder.add(Job(self.name, f"{env.build}/{env.arch}", deps, labels, toolchain))

    def key(self, job: Job, ctx: Context) -> str:
        release, build_options = versions.parse_source_runtime(job.label.runtime)
        tc = cmake_runtime.toolchain(job.label.arch)
        try:
            source = cmake_runtime.source_digest(job.label.runtime_source)
            ident = self._identity(tc, ctx)
        except UserError as exc:  # a missing source or compiler: said in one line, tried again next run
            error_class = "runtime-source" if "source" in str(exc) else "toolchain-missing"
            raise StageFailure(error_class, str(exc), cacheable=False) from None
        host_tools = ctx.dep(self.name).record.key if tc.cross else None
        return cmake_runtime.job_key(source, tc, job.label.linkage, ident, build_options, release, host_tools)

    def execute(self, job: Job, ctx: Context, out: Path) -> Outcome:
        release, build_options = versions.parse_source_runtime(job.label.runtime)
        cache = ctx.cache or out.parent
        try:
            src = cmake_runtime.source(job.label.runtime_source, cache, log=ctx.log)
        except UserError as exc:
            # No source (offline clone, missing path): this cell's answer, retried next run.
            raise StageFailure("runtime-source", str(exc), cacheable=False) from None
        cmake_runtime.check_release(src, release)
        tc = cmake_runtime.toolchain(job.label.arch)
        host_tools = ctx.read(TOOLS) if tc.cross else None
        cmake = cmake_runtime.pypi_cmake(cache, log=ctx.log)
        reads = [src.tree, cmake, *([host_tools] if host_tools else [])]
        facts = cmake_runtime.build_into(
            src,
            tc.target,
            job.label.linkage,
            out,
            tools=out / TOOLS.path,
            ident=self._identity(tc, ctx),
            build_options=build_options,
            host_tools=host_tools,
            under=ctx.bounds,
            run=self._runner(ctx, reads, [out]),
            cmake=str(cmake / "bin" / "cmake"),
            release_flags=cmake_runtime.release_cmake(release, tc.target),
        )
        where = "the toolchain image" if self._image(ctx) is not None else "the host's toolchain"
        metrics = {**facts, "release": release, "variants": list(build_options), "built_in": where}
        return Outcome(Status.OK, metrics=RuntimeBuildMetrics.checked(metrics))

    # On the docker backend the build runs in the toolchain image (cmake, ninja, GCC, the armel
    # cross compilers from Debian); on host venvs with the host's, which `doctor` checks.

    def _image(self, ctx: Context) -> Any:
        make = getattr(ctx.backend, "toolchain_environment", None)
        return None if make is None else make(ctx.bounds)

    def _runner(self, ctx: Context, read_only: list[Path], writable: list[Path]) -> cmake_runtime.Runner:
        if (env := self._image(ctx)) is None:
            return cmake_runtime.host_runner

        return lambda request: env.run(dataclasses.replace(request, read_only=read_only, writable=writable))

    def _identity(self, tc: cmake_runtime.Toolchain, ctx: Context) -> dict[str, str]:
        cmake = cmake_runtime.pypi_cmake(ctx.cache or Path("."), log=ctx.log)
        if (env := self._image(ctx)) is None:
            return cmake_runtime.toolchain_identity(tc, cmake=str(cmake / "bin" / "cmake"))
        # The image's compilers, asked once per image and CMake (a stored build's key is checked every run).
        memo = (ctx.cache or Path(".")) / "toolchain-probes" / f"{env.image.image_id[7:23]}-{cmake.name}.json"
        known = read_json(memo) or {}
        if tc.target not in known:
            run = cmake_runtime.host_runner_in(env, [cmake])
            known[tc.target] = cmake_runtime.toolchain_identity(tc, run, cmake=str(cmake / "bin" / "cmake"))
            write_json(memo, known)
        return {**known[tc.target], "image": env.image.image_id}


STAGE = RuntimeBuildStage()
