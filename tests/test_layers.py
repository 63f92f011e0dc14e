"""The code's shape: packages in layers, each importing only those below it; no import cycle
between files; modules small enough to read. docs/architecture.md draws the same layers."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Lowest first: a package may import its own modules and those of any package before it.
LAYERS = ("core", "staff", "registry", "objection", "website")
# What a domain package may read of one beside it, below: objection reads the register only
# through its query module (a project's reference, title, whether it takes objections).
DOORS = {("objection", "registry"): {"registry.queries"}}
MAX_LINES = 450
ARCHITECTURE = ROOT / "docs" / "architecture.md"


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    target: str  # imported module, dotted (a module of the tree)
    line: int


def modules(root: Path, packages: tuple[str, ...] = LAYERS) -> dict[str, Path]:
    """Dotted name → file, for every Python file of ``packages`` under ``root``."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports(root: Path, packages: tuple[str, ...] = LAYERS) -> list[Import]:
    """Every import of a module of the tree by a module of the tree, at any depth (imports
    inside functions count: they are where circles hide). ``from a import b`` is an import of
    ``a.b`` when that is a module, else of ``a``."""
    known = modules(root, packages)
    found = []
    for name, path in known.items():
        tree = ast.parse(path.read_text("utf-8"), str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")
                    anchor = anchor[:len(anchor) - node.level + (1 if is_package else 0)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                           for alias in node.names]
            for target in targets:
                while target and target not in known:
                    target = target.rpartition(".")[0]  # ``import a.b.c`` of a variable
                if target and target != name:
                    found.append(Import(name, target, node.lineno))
    return found


def layer_problems(found: list[Import], layers: tuple[str, ...] = LAYERS,
                   doors: dict[tuple[str, str], set[str]] = DOORS) -> list[str]:
    problems = []
    for item in found:
        source, target = item.source.split(".")[0], item.target.split(".")[0]
        if source == target:
            continue
        if layers.index(target) > layers.index(source):
            problems.append(f"{item.source}:{item.line} imports {item.target}, a layer above")
        door = doors.get((source, target))
        if door is not None and item.target not in door:
            problems.append(f"{item.source}:{item.line} imports {item.target}; {source} reads "
                            f"{target} only through {', '.join(sorted(door))}")
    return problems


def cycles(found: list[Import]) -> list[list[str]]:
    """The import cycles between modules (strongly connected components of more than one
    module), each as its sorted modules."""
    graph: dict[str, set[str]] = {}
    for item in found:
        graph.setdefault(item.source, set()).add(item.target)
        graph.setdefault(item.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def long_modules(root: Path, allowed: set[str], limit: int = MAX_LINES) -> list[str]:
    return [f"{name}: {len(path.read_text('utf-8').splitlines())} lines"
            for name, path in modules(root).items()
            if len(path.read_text("utf-8").splitlines()) > limit and name not in allowed]


def allowed_long_modules() -> set[str]:
    """Modules docs/architecture.md names under "Long modules", with the reason."""
    text = ARCHITECTURE.read_text("utf-8")
    section = text.split("## Long modules", 1)[1].split("\n## ", 1)[0] if (
        "## Long modules" in text) else ""
    return set(re.findall(r"^- `([a-z_.]+)`", section, re.M))


# --------------------------------------------------------------------------- the real tree

def test_each_package_imports_only_the_layers_below():
    assert layer_problems(imports(ROOT)) == []


def test_no_import_cycle_between_modules():
    assert cycles(imports(ROOT)) == []


def test_modules_stay_short_or_say_why():
    assert long_modules(ROOT, allowed_long_modules()) == []


def test_every_package_is_in_a_layer():
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages == set(LAYERS)


# --------------------------------------------------------------------------- the checks can fail

def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return root


@pytest.fixture
def bad_tree(tmp_path: Path) -> Path:
    return _tree(tmp_path, {
        "core/__init__.py": "",
        "core/config.py": "def check():\n    from registry.search import backends\n",
        "staff/__init__.py": "",
        "registry/__init__.py": "",
        "registry/search/__init__.py": "from registry.search import backends\n",
        "registry/search/backends.py": "from registry import search\n",
        "registry/models.py": "",
        "registry/queries.py": "",
        "objection/__init__.py": "",
        "objection/service.py": "from registry.models import x\nfrom registry import queries\n",
        "website/__init__.py": "",
        "website/app.py": "from . import views\n",
        "website/views.py": "from .app import create_app\n",
    })


def test_a_domain_imported_by_the_ground_floor_is_named(bad_tree):
    problems = layer_problems(imports(bad_tree))
    assert "core.config:2 imports registry.search.backends, a layer above" in problems


def test_a_domain_read_past_its_door_is_named(bad_tree):
    problems = layer_problems(imports(bad_tree))
    assert any(p.startswith("objection.service:1 imports registry.models;") for p in problems)
    assert not any(p.startswith("objection.service:2") for p in problems)


def test_cycles_are_found_even_through_relative_and_package_imports(bad_tree):
    assert sorted(cycles(imports(bad_tree))) == [["registry.search", "registry.search.backends"],
                                                 ["website.app", "website.views"]]


def test_a_long_module_must_be_named_in_the_architecture(tmp_path):
    root = _tree(tmp_path, {**{f"{p}/__init__.py": "" for p in LAYERS},
                            "registry/big.py": "x = 1\n" * (MAX_LINES + 1)})
    assert long_modules(root, set()) == [f"registry.big: {MAX_LINES + 1} lines"]
    assert long_modules(root, {"registry.big"}) == []
