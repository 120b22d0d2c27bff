"""The researcher notebooks stay clean in git and use only the public workbench API.

CI executes the notebooks themselves (``pytest notebooks --nbval-lax``); this file
checks what executing cannot: that no outputs are committed, that nothing reaches
past ``workbench.__all__`` into private modules or the store, and that each one
switches the model hubs off before anything could load a model.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

import workbench

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
EXPECTED = ("01-quickstart", "02-embedding-atlas", "03-search-quality", "04-writing-lab", "05-script-to-board")
PUBLIC = frozenset(workbench.__all__)
# Layers a notebook must not reach into: the store sits under the service layer, the server above it.
OTHER_LAYERS = ("store", "server")
_MAGIC = re.compile(r"^\s*[%!]")


def _notebook_paths() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)


def _code(notebook: nbformat.NotebookNode) -> str:
    """The notebook's Python, IPython magics and shell escapes blanked out."""
    cells = [c.source for c in notebook.cells if c.cell_type == "code"]
    return "\n".join("" if _MAGIC.match(line) else line for cell in cells for line in cell.splitlines())


def api_problems(source: str) -> list[str]:
    """Every way ``source`` uses the workbench outside its public API, as readable lines."""
    tree = ast.parse(source)
    problems = []
    aliases = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.Import)
               for a in n.names if a.name == "workbench"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("workbench."):
                    problems.append(f"line {node.lineno}: import {alias.name} (private module)")
                elif alias.name.split(".")[0] in OTHER_LAYERS:
                    problems.append(f"line {node.lineno}: import {alias.name} (not the service layer)")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                problems.append(f"line {node.lineno}: relative import")
            elif module == "workbench":
                problems += [f"line {node.lineno}: from workbench import {a.name} (not in workbench.__all__)"
                             for a in node.names if a.name not in PUBLIC]
            elif module.startswith("workbench."):
                problems.append(f"line {node.lineno}: from {module} import ... (private module)")
            elif module.split(".")[0] in OTHER_LAYERS:
                problems.append(f"line {node.lineno}: from {module} import ... (not the service layer)")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            if node.attr not in PUBLIC:
                problems.append(f"line {node.lineno}: workbench.{node.attr} (not in workbench.__all__)")
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            target = str(node.args[0].value)
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("import_module", "__import__") and target.split(".")[0] in ("workbench", *OTHER_LAYERS):
                problems.append(f"line {node.lineno}: dynamic import of {target}")
    return sorted(problems, key=lambda p: int(p.split(":")[0].removeprefix("line ")))


def test_every_research_notebook_is_there() -> None:
    names = {p.stem for p in _notebook_paths()}
    missing = sorted(set(EXPECTED) - names)
    assert not missing, f"notebooks/ is missing {missing}"


@pytest.mark.parametrize("path", _notebook_paths(), ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    notebook = _read(path)
    nbformat.validate(notebook)
    dirty = [i for i, c in enumerate(notebook.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts; write it with outputs stripped"
    assert "widgets" not in notebook.metadata, f"{path.name} carries saved widget state"


@pytest.mark.parametrize("path", _notebook_paths(), ids=lambda p: p.stem)
def test_notebook_uses_only_the_public_api(path: Path) -> None:
    source = _code(_read(path))
    assert re.search(r"^import workbench$", source, re.MULTILINE), f"{path.name} never imports workbench"
    assert api_problems(source) == [], f"{path.name} reaches past the public API"


@pytest.mark.parametrize("path", _notebook_paths(), ids=lambda p: p.stem)
def test_notebook_switches_model_hubs_off_first(path: Path) -> None:
    source = _code(_read(path))
    offline = source.find('os.environ["HF_HUB_OFFLINE"] = "1"')
    assert 0 <= offline < source.find("import workbench"), (
        f"{path.name} must set HF_HUB_OFFLINE=1 before importing workbench"
    )


def test_the_api_check_catches_private_imports() -> None:
    public = next(iter(sorted(PUBLIC)))
    good = f"import workbench\nfrom workbench import {public}\nwb = workbench.open()\nwb.library.list(me)\n"
    bad = (
        "import workbench\n"
        "import workbench.samples\n"
        "from workbench.search import Search\n"
        "from workbench import Pipeline\n"
        "from store import VectorStore\n"
        "import server.main\n"
        "x = workbench.samples.SAMPLES\n"
        "importlib.import_module('workbench.embed')\n"
    )
    assert api_problems(good) == []
    problems = api_problems(bad)
    assert [p.split(":")[0] for p in problems] == [f"line {n}" for n in (2, 3, 4, 5, 6, 7, 8)], problems
    assert any("workbench.samples" in p for p in problems)
