#!/usr/bin/env python3
"""The structure figures of the code, as anyone can rerun them: `python tools/structure.py`.

Prints, over the library and the CLI (rfm_cli/ and rfm/):
- modules over MAX_MODULE_LINES lines (physical lines, as `wc -l` counts them);
- functions and methods over MAX_FUNCTION_LINES lines (from the `def` line, decorators excluded,
  to the function's last line, its docstring included);
- import circles between modules at module level (imports inside functions or under
  `if TYPE_CHECKING:` run later, so they cannot make the import order decide what works).

Exit status 0 always: the figures are for reading (tests/test_architecture.py pins what must hold).
`--json` prints the same figures as one JSON object.
"""

from __future__ import annotations

import ast
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rfm_cli", "rfm")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


@dataclass(frozen=True)
class Function:
    path: str
    name: str
    line: int
    lines: int


def python_files(root: Path = ROOT) -> list[Path]:
    return sorted(p for package in PACKAGES for p in (root / package).rglob("*.py"))


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_lines(root: Path = ROOT) -> dict[str, int]:
    """Every module's line count, by its path relative to root."""
    return {
        str(p.relative_to(root)): len(p.read_text(encoding="utf-8").splitlines()) for p in python_files(root)
    }


def functions(root: Path = ROOT) -> list[Function]:
    """Every function and method (nested ones too), with its length in lines."""
    found: list[Function] = []
    for path in python_files(root):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        stack: list[tuple[ast.AST, str]] = [(tree, "")]
        while stack:
            node, prefix = stack.pop()
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                    name = f"{prefix}{child.name}"
                    length = (child.end_lineno or child.lineno) - child.lineno + 1
                    found.append(Function(str(path.relative_to(root)), name, child.lineno, length))
                    stack.append((child, name + "."))
                elif isinstance(child, ast.ClassDef):
                    stack.append((child, f"{prefix}{child.name}."))
                else:
                    stack.append((child, prefix))
    return sorted(found, key=lambda f: (f.path, f.line))


def _module_level_imports(tree: ast.Module, name: str, is_package: bool) -> list[str]:
    """The modules a module imports when it is imported: absolute and relative imports at module level,
    `from pkg import sub` counted both as pkg and as pkg.sub (the caller keeps those that are modules)."""
    found: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found += [target] + [f"{target}.{alias.name}" for alias in node.names]
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    paths = {module_name(p, root): p for p in python_files(root)}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = _module_level_imports(tree, name, path.name == "__init__.py")
        # A module's own packages are initialised before it anyway: `from pkg import sub` inside pkg
        # is an edge to pkg.sub, not to pkg.
        graph[name] = {m for m in imported if m in paths and m != name and not name.startswith(m + ".")}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
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

    for start in sorted(graph):
        if start not in index:
            visit(start)
    return sorted(components)


def figures(root: Path = ROOT) -> dict:
    sizes = module_lines(root)
    long_functions = [f for f in functions(root) if f.lines > MAX_FUNCTION_LINES]
    return {
        "modules": len(sizes),
        "lines": sum(sizes.values()),
        "modules_over_limit": {p: n for p, n in sorted(sizes.items(), key=lambda kv: -kv[1])
                               if n > MAX_MODULE_LINES},
        "functions_over_limit": [
            {"path": f.path, "name": f.name, "line": f.line, "lines": f.lines}
            for f in sorted(long_functions, key=lambda f: -f.lines)
        ],
        "import_cycles": import_cycles(import_graph(root)),
    }


def main(argv: list[str]) -> int:
    found = figures()
    if "--json" in argv:
        print(json.dumps(found, indent=2, ensure_ascii=False))
        return 0
    over = found["modules_over_limit"]
    print(f"{found['modules']} modules, {found['lines']} lines")
    print(f"modules over {MAX_MODULE_LINES} lines: {len(over)}")
    for path, lines in over.items():
        print(f"  {lines:5d}  {path}")
    long_functions = found["functions_over_limit"]
    print(f"functions over {MAX_FUNCTION_LINES} lines: {len(long_functions)}")
    for f in long_functions:
        print(f"  {f['lines']:5d}  {f['path']}:{f['line']}  {f['name']}")
    print(f"import cycles: {len(found['import_cycles'])}")
    for cycle in found["import_cycles"]:
        print("  " + " <-> ".join(cycle))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:  # `python tools/structure.py | head`
        sys.stderr.close()
        sys.exit(0)
