"""The CI workflow that runs the matrix as shards (.github/workflows/matrix.yml): valid against
GitHub's workflow schema (check-jsonschema's vendored copy, offline), and wired the way the README
says: N shards, an arm64 runner for the aarch64 cells, artifacts in, one merge out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
WORKFLOW = WORKFLOWS / "matrix.yml"


def test_workflow_is_valid_against_githubs_schema():
    """Every workflow (matrix.yml, and slow.yml: the zoo CI leaves to a schedule), one check."""
    pytest.importorskip("check_jsonschema", reason="pip install '.[test]' (check-jsonschema)")
    argv = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows"]
    files = sorted(str(f) for f in WORKFLOWS.glob("*.yml"))
    assert len(files) >= 2
    done = subprocess.run([*argv, *files], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_does_catch_a_mistake(tmp_path):
    pytest.importorskip("check_jsonschema", reason="pip install '.[test]' (check-jsonschema)")
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on: ubuntu-24.04\n", "runs_on: ubuntu-24.04\n", 1))
    argv = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows"]
    done = subprocess.run([*argv, str(broken)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr


@pytest.fixture(scope="module")
def workflow() -> dict:
    yaml = pytest.importorskip("ruamel.yaml", reason="pip install '.[test]' (check-jsonschema brings it)")
    return yaml.YAML(typ="safe").load(WORKFLOW.read_text())


def test_shards_are_a_strategy_matrix_over_the_shard_index(workflow):
    shard = workflow["jobs"]["shard"]
    numbered = shard["strategy"]["matrix"]["shard"]
    assert numbered == list(range(1, len(numbered) + 1))
    assert workflow["env"]["SHARDS"] == str(len(numbered))  # K/N must cover every part
    assert shard["strategy"]["fail-fast"] is False  # one failing shard keeps the others' results
    run = next(step["run"] for step in shard["steps"] if step.get("name") == "Run the shard")
    assert "iree-matrix matrix" in run and "--shard {1}/{2}" in run and "env.SHARDS" in run


def test_aarch64_cells_run_on_an_arm64_runner(workflow):
    shard = workflow["jobs"]["shard"]
    arm = [e for e in shard["strategy"]["matrix"]["include"] if e.get("runner", "").endswith("-arm")]
    assert arm and "aarch64" in arm[0]["args"]
    assert "matrix.runner" in shard["runs-on"]


def test_each_shard_uploads_and_the_merge_job_downloads_merges_uploads(workflow):
    shard, merge = workflow["jobs"]["shard"], workflow["jobs"]["merge"]
    upload = next(s for s in shard["steps"] if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["with"]["name"] == "results-shard-${{ matrix.shard }}" and upload["if"] == "always()"
    assert "shard" in merge["needs"] and merge["if"].startswith("always()")
    download = next(s for s in merge["steps"] if s.get("uses", "").startswith("actions/download-artifact"))
    assert download["with"]["pattern"] == "results-shard-*"
    commands = "\n".join(s.get("run", "") for s in merge["steps"])
    assert f"iree-matrix merge {download['with']['path']}/*/ --to merged" in commands
    uploads = [s for s in merge["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert uploads and uploads[-1]["with"]["path"] == "merged/"


def test_every_shard_plans_the_same_releases(workflow):
    # "compiler = all" is resolved once by the plan job; each shard starts from its releases.json.
    plan = workflow["jobs"]["plan"]
    assert any("--list --shard" in s.get("run", "") for s in plan["steps"])
    shard = workflow["jobs"]["shard"]
    assert shard["needs"] == "plan"
    download = next(s for s in shard["steps"] if s.get("uses", "").startswith("actions/download-artifact"))
    assert download["with"] == {"name": "releases", "path": "shard-results"}


def test_by_hand_it_runs_the_default_and_weekly_the_release_history_that_takes_new_releases(workflow):
    import tomllib

    repo = WORKFLOW.parents[2]
    by_hand = workflow["on"]["workflow_dispatch"]["inputs"]["matrix"]["default"]
    assert by_hand == "matrix/default.toml"
    weekly = workflow["env"]["MATRIX_FILE"].split("||")[1].strip(" '}")
    assert weekly == "matrix/release-history.toml" and "schedule" in workflow["on"]
    assert tomllib.loads((repo / weekly).read_text())["compiler"] == "all"  # where a new release enters
    for name in (by_hand, weekly):
        assert (repo / name).is_file()
