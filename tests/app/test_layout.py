"""The house's walls and rooms, read from the source: who may import whom, and no import cycle in core/.

The import graph is built from every module's syntax tree (imports inside functions included, those under
``if TYPE_CHECKING:`` left out, since they never run). ``from package import name`` counts as importing the
submodule ``package.name`` when there is one, and the package otherwise. A cycle is reported between modules
and between core's packages (``core.loans`` importing ``core.eod`` and back is a cycle even when no single
module pair is), each with the imports that close it.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOP = ("core", "api", "admin", "plugins", "loanfactory")


def _modules() -> dict[str, Path]:
    found = {}
    for top in TOP:
        for path in (ROOT / top).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _type_checking_only(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for inner in ast.walk(node))
    return skipped


def _imports(name: str, path: Path) -> set[str]:
    """Every module name ``name`` imports at run time (external ones as written)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            subs = [f"{base}.{alias.name}" for alias in node.names]
            found.update(sub for sub in subs if sub in MODULES)
            if any(sub not in MODULES for sub in subs):
                found.add(base)
    return found


def _internal(target: str) -> str | None:
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target or None


IMPORTS = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _core_edges(group: int | None) -> dict[str, set[str]]:
    """Core's import graph between modules (``group=None``) or between the first ``group`` name parts."""
    def key(name: str) -> str:
        return name if group is None else ".".join(name.split(".")[:group])

    edges: dict[str, set[str]] = defaultdict(set)
    for name, targets in IMPORTS.items():
        if not name.startswith("core"):
            continue
        edges[key(name)]
        for target in map(_internal, targets):
            if target and target.startswith("core.") and key(target) != key(name):
                edges[key(name)].add(key(target))
    return edges


def _explain(cycle: list[str], group: int | None) -> list[str]:
    members = set(cycle)

    def key(name: str) -> str:
        return name if group is None else ".".join(name.split(".")[:group])

    return sorted(f"{name} -> {target}" for name, targets in IMPORTS.items() if key(name) in members
                  for target in map(_internal, targets) if target and key(target) in members - {key(name)})


@pytest.mark.parametrize(("group", "what"), [(None, "modules"), (2, "packages")])
def test_core_has_no_import_cycle(group: int | None, what: str) -> None:
    cycles = _cycles(_core_edges(group))
    assert not cycles, f"import cycles between core's {what}: " + "; ".join(
        f"{cycle}: {_explain(cycle, group)}" for cycle in cycles)


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


#: (importer's top-level package, packages it must never import)
WALLS = [
    ("core", {"flask", "flask_admin", "flask_wtf", "flask_login", "flask_babel", "wtforms", "celery",
              "api", "admin", "plugins", "loanfactory"}),
    ("plugins", {"api", "admin"}),
    ("api", {"admin"}),
    ("admin", {"api"}),
]


@pytest.mark.parametrize(("importer", "forbidden"), WALLS, ids=[wall[0] for wall in WALLS])
def test_walls_hold(importer: str, forbidden: set[str]) -> None:
    breaches = sorted(f"{name} imports {target}" for name, targets in IMPORTS.items()
                      if name.split(".")[0] == importer and name != "plugins.testing"
                      for target in targets if target.split(".")[0] in forbidden)
    assert not breaches, breaches


def test_the_rooms_named_in_the_architecture_exist() -> None:
    """Where a newcomer is told to look (README's architecture section) is where the rule lives."""
    rooms = {
        "the penalty rule": ("core.loans.penalty", "PenaltyPolicy"),
        "the API key cache": ("core.channels.key_cache", "KeyCache"),
        "the APR solver": ("core.schedule.apr", "schedule_apr"),
        "the hook specifications": ("core.plugins.hookspecs", "hookspec"),
        "the prepayment window": ("core.loans.prepayment", "check_prepayment_window"),
        "the portfolio measures": ("core.portfolio.measures", "book_on"),
    }
    for room, (module, marker) in rooms.items():
        assert module in MODULES, f"{room}: {module} is not in the tree"
        assert marker in MODULES[module].read_text(encoding="utf-8"), f"{room}: {marker} is not in {module}"
