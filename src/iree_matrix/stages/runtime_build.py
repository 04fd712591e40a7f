"""runtime-build: IREE's runtime built from source with cmake, for a `src:<release>` runtime value.

The planner adds one such job per source runtime and architecture; the runtime environment's
install takes its tools from this job's store entry (`<store>/runtime-build/<key>/tools/`), so
"the pip runtime vs one built here" is just another runtime axis value, and a build is made once
per key: the source's identity (tarball sha256, git URL + tag, directory), the toolchain's version
lines, the target, the linkage, the variant's flags, and for a cross build the host tools' build.
A build that fails is a stored result carrying the compiler's own error lines.
"""

from __future__ import annotations

from pathlib import Path

from iree_matrix import runtime_build, versions
from iree_matrix._hashing import digest
from iree_matrix.errors import StageFailure, UserError
from iree_matrix.outcome import Outcome
from iree_matrix.plan import Job
from iree_matrix.results import Status
from iree_matrix.stages.base import Context
from iree_matrix.store import Entry

TOOLS = "tools"


class RuntimeBuildStage:
    name = "runtime-build"
    exclusive = False

    def key(self, job: Job, ctx: Context) -> str:
        release, variants = versions.parse_source_runtime(job.labels["runtime"])
        tc = runtime_build.toolchain(job.labels["arch"])
        linkage = "static" if "static" in variants else "dynamic"
        try:
            source = runtime_build.source_digest(job.labels["runtime_source"])
            ident = runtime_build.toolchain_identity(tc)
        except UserError as exc:  # a missing source or compiler: said in one line, tried again next run
            error_class = "runtime-source" if "source" in str(exc) else "toolchain-missing"
            raise StageFailure(error_class, str(exc), cacheable=False) from None
        return digest(
            {
                "stage": self.name,
                "build": runtime_build.build_key(source, tc, linkage, ident, variants),
                "release": release,
                "host_tools": ctx.dep(self.name).record.key if tc.cross else None,
            }
        )

    def reusable(self, job: Job, ctx: Context, entry: Entry) -> bool:
        return True

    def execute(self, job: Job, ctx: Context, out: Path) -> Outcome:
        release, variants = versions.parse_source_runtime(job.labels["runtime"])
        cache = ctx.cache or out.parent
        src = runtime_build.source(job.labels["runtime_source"], cache, log=ctx.log)
        runtime_build.check_release(src, release)
        tc = runtime_build.toolchain(job.labels["arch"])
        host_tools = ctx.dep(self.name).artifact(TOOLS) if tc.cross else None
        facts = runtime_build.build_into(
            src,
            tc.target,
            "static" if "static" in variants else "dynamic",
            out,
            ident=runtime_build.toolchain_identity(tc),
            variants=variants,
            host_tools=host_tools,
            log=ctx.log,
            timeout=ctx.timeout,
        )
        return Outcome(Status.OK, metrics={**facts, "release": release, "variants": list(variants)})
