"""`--model pkg.mod:factory` is resolved by finding the file, never by importing it (#14, defect 8):
planning (`--list` included) must not run a user's package code, not even its `__init__.py`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from iree_matrix import cli
from iree_matrix.matrix import models

GOOD = 'python = "3.11"\ntorch = "2.13.0"\nturbine = "3.9.0"\ncompiler = "3.9.0"\nmodels = "tiny_cnn"\n'


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IREE_MATRIX_CACHE", str(tmp_path / "cache"))


def _package(root: Path, init: str, modules: dict[str, str]) -> Path:
    pkg = root / "userpkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(init)
    for name, body in modules.items():
        (pkg / f"{name}.py").write_text(body)
    return pkg


def test_list_does_not_run_the_package_init(tmp_path, monkeypatch, capsys):
    marker = tmp_path / "init-ran"
    _package(
        tmp_path / "src", f"open({str(marker)!r}, 'w').write('ran')\n", {"nets": "def build():\n    pass\n"}
    )
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    matrix = tmp_path / "m.toml"
    matrix.write_text(GOOD)
    assert cli.main(["matrix", "--matrix", str(matrix), "--list", "--model", "userpkg.nets:build"]) == 0
    assert "export:nets/" in capsys.readouterr().out
    assert not marker.exists(), "planning imported the user's package"


def test_a_package_whose_init_raises_still_plans(tmp_path):
    _package(tmp_path, "raise RuntimeError('never import me')\n", {"nets": "def build():\n    pass\n"})
    ref = models.resolve("userpkg.nets:build", tmp_path)
    assert ref.file == (tmp_path / "userpkg" / "nets.py").resolve()
    assert ref.import_root == tmp_path.resolve() and ref.module == "userpkg.nets"
    assert ref.name == "nets"


def test_a_package_itself_resolves_to_its_init(tmp_path):
    _package(tmp_path, "def make():\n    pass\n", {})
    ref = models.resolve("userpkg:make", tmp_path)
    assert ref.file.name == "__init__.py" and ref.import_root == tmp_path.resolve()


def test_the_first_path_entry_with_the_file_wins(tmp_path):
    for where in ("a", "b"):
        _package(tmp_path / where, "", {"nets": "def build():\n    pass\n"})
    file, root = models.find_module_file(
        "userpkg.nets", [str(tmp_path / "missing"), str(tmp_path / "b"), str(tmp_path / "a")]
    )
    assert root == (tmp_path / "b").resolve() and file == root / "userpkg" / "nets.py"


def test_statics_are_read_from_the_module_file_without_importing(tmp_path):
    body = (
        'import sys\nsys.exit(3)\nFUNCTIONS = ("enc", "dec")\nREQUIREMENTS = ("transformers==5.23.0",)\n'
        "def build():\n    pass\n"
    )
    _package(tmp_path, "", {"nets": body})
    ref = models.resolve("userpkg.nets:build", tmp_path)
    assert ref.functions == ("enc", "dec") and ref.requirements == ("transformers==5.23.0",)


def test_a_factory_the_module_does_not_define_is_an_error(tmp_path):
    _package(tmp_path, "", {"nets": "def build():\n    pass\n"})
    with pytest.raises(models.ModelError, match="defines no 'make_net'"):
        models.resolve("userpkg.nets:make_net", tmp_path)


@pytest.mark.parametrize(
    "body",
    [
        "from userpkg.impl import build\n",
        "import torch\nbuild = torch.nn.Linear\n",
        "try:\n    from fast import build\nexcept ImportError:\n    def build():\n        pass\n",
        "from userpkg.impl import *\n",  # cannot tell without importing: accepted, checked at export
        "class build:\n    pass\n",
    ],
)
def test_a_factory_bound_any_way_at_top_level_is_accepted(tmp_path, body):
    _package(tmp_path, "", {"nets": body})
    assert models.resolve("userpkg.nets:build", tmp_path).factory == "build"


def test_a_syntax_error_in_the_package_init_is_not_plannings_business(tmp_path):
    """#14 defect 8: a package with a syntax error was a traceback from --list (find_spec imported
    it); the export stage, which does import it, reports it as that job's failure."""
    _package(tmp_path, "def broken(:\n", {"nets": "def build():\n    pass\n"})
    assert models.resolve("userpkg.nets:build", tmp_path).name == "nets"


def test_a_syntax_error_in_the_module_itself_is_one_line(tmp_path, capsys):
    _package(tmp_path, "", {"nets": "def build(:\n"})
    matrix = tmp_path / "m.toml"
    matrix.write_text(GOOD.replace('models = "tiny_cnn"', 'models = "userpkg.nets:build"'))
    assert cli.main(["matrix", "--matrix", str(matrix), "--list"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "nets.py:1: not valid Python" in err[0], err


TWO = "import torch\n\ndef a(seed=0):\n    pass\n\ndef b(seed=0):\n    pass\n\ndef build(seed=0):\n    pass\n"


def test_a_users_model_is_named_in_one_place_and_read_back_from_its_reference(tmp_path):
    file = tmp_path / "two.py"
    file.write_text(TWO)
    for factory, name in (("a", "two-a"), ("b", "two-b"), ("build", "two")):
        ref = models.resolve(f"{file}:{factory}", tmp_path)
        assert ref.name == name == models.name_of(f"{file}:{factory}") == models.name_of(f"two.py:{factory}")
        assert models.resolve(ref.reference, Path("/")).name == name  # the reference names it again
        argv = ["python", "export_model.py", *ref.worker_args(), "--function", "main", "--out", "o"]
        assert models.reference_in(argv) == ref.reference
    assert models.name_of("mobilenet_v2") == "mobilenet_v2" and models.name_of("two-a") == "two-a"
    assert models.name_of("pkg.hf_models:vit") == "hf_models-vit"


def test_a_builtin_models_worker_command_is_no_users_reference():
    ref = models.resolve("mobilenet_v2", Path.cwd())
    assert models.reference_in(["python", "w.py", *ref.worker_args()]) is None
    assert ref.reference == "mobilenet_v2"


def test_a_recipe_follows_a_users_factory_too(tmp_path):
    file = tmp_path / "hf_models.py"
    file.write_text("def gpt2(seed=0, attn_implementation='sdpa'):\n    pass\n")
    ref = models.resolve(f"{file}:gpt2~nonstrict", tmp_path)
    assert (ref.name, ref.recipe, ref.factory) == ("hf_models-gpt2~nonstrict", "nonstrict", "gpt2")
    assert models.name_of(f"{file}:gpt2~nonstrict") == ref.name
    argv = ["python", "export_recipe.py", *ref.worker_args(), "--out", "o", "--recipe", "nonstrict"]
    assert models.reference_in(argv) == ref.reference == f"{file}:gpt2~nonstrict"
    with pytest.raises(models.ModelError, match="unknown choice"):
        models.resolve(f"{file}:gpt2~fast", tmp_path)
    with pytest.raises(models.ModelError, match="follows a built-in model's name"):
        models.resolve("hf_models-gpt2~nonstrict", tmp_path)
    home = models.split_recipe("~/nets/x.py:build")  # a path's own `~` is no recipe
    assert home == ("~/nets/x.py:build", "")


def test_a_model_kept_in_the_home_binds_only_its_file_never_the_home(monkeypatch, tmp_path: Path) -> None:
    """Issue 68: a model file kept in ~ bound its whole directory (the home, its ~/.ssh) into the
    sandbox. Its directory is bound only when it is neither the home, nor above it, nor system-wide."""
    from iree_matrix.matrix.models import ModelRef, readable_beside

    home = tmp_path / "home" / "u"
    (home / "work").mkdir(parents=True)
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: home))
    assert readable_beside(home / "m.py") == home / "m.py"
    assert readable_beside(tmp_path / "home" / "m.py") == tmp_path / "home" / "m.py"  # holds the home
    assert readable_beside(home / "work" / "m.py") == home / "work"  # its own folder: siblings too
    assert readable_beside(Path("/tmp/m.py")) == Path("/tmp/m.py")
    assert readable_beside(Path("/m.py")) == Path("/m.py")
    assert ModelRef("m", home / "m.py", "build").mounts() == [home / "m.py"]
    (home / "pkg").mkdir()
    packaged = ModelRef("m", home / "pkg" / "m.py", "build", module="pkg.m", import_root=home)
    assert packaged.mounts() == [home / "pkg"]  # its package, not the import root (the home)


# Bad inputs, fourth round: each was accepted at plan time (the export then failed late, in words
# that named neither the file nor the fix) or said as something it was not.
_NET = "import torch\nSIZE = 3\nNAMES: tuple = ('a',)\n\ndef build():\n    pass\n\ndef other():\n    pass\n"


def test_a_file_that_is_not_python_source_is_refused_at_plan(tmp_path):
    """`--model nets.txt:build` planned, and its export failed with "'NoneType' object has no
    attribute 'loader'" (no import loader takes a .txt file)."""
    (tmp_path / "nets.txt").write_text(_NET)
    with pytest.raises(models.ModelError, match=r"nets.txt: a model is a Python file ending in .py; rename"):
        models.resolve("nets.txt:build", tmp_path)


@pytest.mark.parametrize("factory, value", [("SIZE", "3"), ("NAMES", "('a',)")])
def test_a_factory_bound_to_a_literal_is_refused_at_plan(tmp_path, factory, value):
    """`nets.py:SIZE` planned and its export said only "has no callable 'SIZE'"."""
    (tmp_path / "nets.py").write_text(_NET)
    with pytest.raises(
        models.ModelError, match=rf"{factory} = {re.escape(value)} is a value, not a function"
    ):
        models.resolve(f"nets.py:{factory}", tmp_path)


def test_a_name_bound_to_a_literal_and_then_defined_is_accepted(tmp_path):
    (tmp_path / "nets.py").write_text("build = None\nif True:\n    def build():\n        pass\n")
    assert models.resolve("nets.py:build", tmp_path).factory == "build"


def test_a_file_named_without_its_factory_is_told_its_functions(tmp_path):
    """`--model nets.py` said "unknown model (built-in: …)"; it names the file's functions as
    references to type."""
    (tmp_path / "nets.py").write_text(_NET)
    with pytest.raises(models.ModelError, match=r"name the factory too, nets.py:build \(its top-level "
                       r"functions: build, other\)"):  # fmt: skip
        models.resolve("nets.py", tmp_path)


def test_factories_a_call_makes_are_told_too_and_constants_are_not(tmp_path):
    """A file whose factories a helper makes (`build, by_hand = seeded(spec)`, as tests/data/routes)."""
    text = "from helpers import seeded\nSIZE = int('3')\nbuild, by_hand = seeded(print)\nnamed = lambda: 1\n"
    (tmp_path / "nets.py").write_text(text)
    with pytest.raises(
        models.ModelError, match=r"nets.py:build \(its top-level functions: build, by_hand, named\)"
    ):
        models.resolve("nets.py", tmp_path)


def test_a_tilde_with_nothing_after_it_says_so(tmp_path):
    """`nets.py:build~` said "recipe '': unknown choice ''"."""
    (tmp_path / "nets.py").write_text(_NET)
    with pytest.raises(models.ModelError, match=r"nothing after '~': name an export recipe after it"):
        models.resolve("nets.py:build~", tmp_path)
    with pytest.raises(models.ModelError, match=r"nothing after '~'"):
        models.resolve("tiny_cnn~", tmp_path)
