"""The house rules of the package tree (issue 16), read from the source with `ast`.

Layers, lowest first; a module may import its own layer and the ones below, never one above:

    0  pipelines.core                        config, errors, keys, grid, bands: imports nothing of ours
    1  pipelines.store                       the Zarr contract (the only code that opens a store)
    2  pipelines.imagery, pipelines.reports  library code on arrays, tables and products
    3  models, pipelines.synthetic           agronomy and ML on arrays and config objects
    4  pipelines.orchestration, pipelines.cli, assets   Dagster wiring, the command line, the assets

Plus: no import circle between modules (imports inside functions count too: a lazy import is
still a dependency), at most 15 modules directly in a package, no file over 400 lines, Zarr
(`import zarr`, `open_zarr`, `to_zarr`) only in `pipelines/store`, `models/` imports neither
dagster nor `pipelines.store`, and dagster is imported only by `assets/`,
`pipelines/orchestration` and `pipelines/cli`.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("pipelines", "assets", "models")
LAYERS = {
    "pipelines.core": 0,
    "pipelines.store": 1,
    "pipelines.imagery": 2,
    "pipelines.reports": 2,
    "models": 3,
    "pipelines.synthetic": 3,
    "pipelines.orchestration": 4,
    "pipelines.cli": 4,
    "assets": 4,
}
DAGSTER_ALLOWED = ("assets", "pipelines.orchestration", "pipelines.cli")
ZARR_ALLOWED = ("pipelines.store",)
MAX_MODULES_PER_PACKAGE = 15
MAX_LINES = 400
LINE_CHECKED = ("pipelines", "assets", "models", "tests", "benchmarks", "scripts")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, tuple[Path, ast.Module]]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = (path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return found


SOURCES = _sources()


def _imports(module: str, path: Path, tree: ast.Module) -> Iterator[tuple[str, int]]:
    """Every module named by an import statement anywhere in the file (with its line)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            yield base, node.lineno
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno


def _ours(name: str) -> str | None:
    """The module of ours an imported name refers to (longest known prefix), or None."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in SOURCES:
            return candidate
    return None


def _edges() -> dict[str, dict[str, int]]:
    edges: dict[str, dict[str, int]] = {}
    for module, (path, tree) in SOURCES.items():
        for name, line in _imports(module, path, tree):
            target = _ours(name)
            if target is not None and target != module and not module.startswith(target + "."):
                edges.setdefault(module, {}).setdefault(target, line)
    return edges


EDGES = _edges()


def _layer(module: str) -> tuple[str, int] | None:
    for prefix in sorted(LAYERS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return prefix, LAYERS[prefix]
    return None


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _where(module: str, line: int) -> str:
    return f"{SOURCES[module][0].relative_to(ROOT)}:{line}"


def test_every_module_has_a_layer():
    loose = [m for m in SOURCES if _layer(m) is None and m not in ("pipelines", "pipelines.__main__")]
    assert not loose, f"modules outside every layer (give them a home in {sorted(LAYERS)}): {loose}"


def test_imports_run_down_the_layers():
    upward = []
    for module, targets in EDGES.items():
        source = _layer(module)
        for target, line in targets.items():
            destination = _layer(target)
            if source and destination and destination[1] > source[1]:
                upward.append(f"{_where(module, line)}: {source[0]} (layer {source[1]}) imports {target} "
                              f"(layer {destination[1]})")
    assert not upward, "imports running up the layers:\n" + "\n".join(upward)


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    counter = 0
    for root in sorted(SOURCES):
        if root in index:
            continue
        work = [(root, iter(sorted(EDGES.get(root, {}))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(EDGES.get(child, {})))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
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
                    components.append(sorted(component))
    return components


def test_no_import_circle():
    circles = _cycles()
    assert not circles, "import circles (break each by moving the shared piece down a layer):\n" + "\n".join(
        " -> ".join(c) for c in circles)


def test_cycle_finder_finds_a_planted_circle(monkeypatch):
    monkeypatch.setitem(EDGES, "pipelines.core.keys",
                        {**EDGES.get("pipelines.core.keys", {}), "pipelines.core.errors": 1})
    monkeypatch.setitem(EDGES, "pipelines.core.errors",
                        {**EDGES.get("pipelines.core.errors", {}), "pipelines.core.keys": 1})
    assert ["pipelines.core.errors", "pipelines.core.keys"] in _cycles()


def test_packages_are_small():
    crowded = {}
    for package in PACKAGES:
        for folder in [ROOT / package, *(p for p in (ROOT / package).rglob("*") if p.is_dir())]:
            modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
            if len(modules) > MAX_MODULES_PER_PACKAGE:
                crowded[str(folder.relative_to(ROOT))] = len(modules)
    assert not crowded, f"packages over {MAX_MODULES_PER_PACKAGE} modules (split by concept): {crowded}"


def test_files_are_small():
    long = {}
    for top in LINE_CHECKED:
        for path in (ROOT / top).rglob("*.py"):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_LINES:
                long[str(path.relative_to(ROOT))] = lines
    assert not long, f"files over {MAX_LINES} lines (split by concept): {long}"


def _third_party(prefix: str) -> list[tuple[str, str, int]]:
    """(module, imported name, line) for every import of the third-party package `prefix`."""
    return [(module, name, line) for module, (path, tree) in SOURCES.items()
            for name, line in _imports(module, path, tree) if name == prefix or name.startswith(prefix + ".")]


def test_only_the_store_touches_zarr():
    offenders = [f"{_where(m, line)}: imports {name}" for m, name, line in _third_party("zarr")
                 if not _under(m, ZARR_ALLOWED)]
    for module, (path, tree) in SOURCES.items():
        if _under(module, ZARR_ALLOWED):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("open_zarr", "to_zarr"):
                offenders.append(f"{_where(module, node.lineno)}: calls .{node.attr}")
    assert not offenders, ("Zarr is opened outside pipelines/store (go through pipelines.store):\n"
                           + "\n".join(offenders))


def test_only_the_wiring_imports_dagster():
    offenders = [f"{_where(m, line)}: imports {name}" for m, name, line in _third_party("dagster")
                 if not _under(m, DAGSTER_ALLOWED)]
    assert not offenders, ("dagster imported outside assets/, pipelines/orchestration, pipelines/cli:\n"
                           + "\n".join(offenders))


@pytest.mark.xfail(strict=True, reason="models/irrigation/farm_plan.py and zone_plan.py still open the store: "
                   "their reads move to pipelines.store readers called by assets/ (issue 16, lead's part)")
def test_models_take_data_not_stores():
    offenders = [f"{_where(m, line)}: imports {target}" for m, targets in EDGES.items() if _under(m, ("models",))
                 for target, line in targets.items() if _under(target, ("pipelines.store",))]
    assert not offenders, "models/ must take arrays and tables, not open the store:\n" + "\n".join(offenders)


@pytest.mark.parametrize("rule", [test_imports_run_down_the_layers, test_only_the_wiring_imports_dagster])
def test_rules_catch_a_planted_violation(rule, monkeypatch):
    """The rules can fail: plant core → assets and a dagster import in core, and each rule objects."""
    tree = ast.parse("import dagster\nfrom assets import _metadata\n")
    path, _ = SOURCES["pipelines.core.keys"]
    monkeypatch.setitem(SOURCES, "pipelines.core.keys", (path, tree))
    monkeypatch.setitem(EDGES, "pipelines.core.keys", {"assets._metadata": 2})
    with pytest.raises(AssertionError):
        rule()
