"""The house rules that keep one path per job: no import cycles, the core never imports the engine adapters,
defaults defined once, atomic writes."""

import ast
import os
import re
from pathlib import Path

import pytest

from simssl.atomic import AtomicFile, partial_path
from simssl.errors import SimsslError

PACKAGE = Path(__file__).resolve().parents[1] / "simssl"
#: the engine adapters, installed as simssl.plugins: the same house rules hold there
PLUGINS = Path(__file__).resolve().parents[1] / "plugins"


def sources():
    """Every Python file of the package and of the adapters."""
    return [*PACKAGE.rglob("*.py"), *PLUGINS.rglob("*.py")]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    """Whether ``name`` (``simssl.x.y``) is a module or package of simssl."""
    path = PACKAGE.parent / name.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def scoped_imports(path: Path, name: str | None = None) -> list[tuple[str, str]]:
    """(scope, module) of every import in ``path``, at the top or inside functions (lazy imports count too).

    ``scope`` is the dotted name of the enclosing classes and functions (``''`` at module level);
    ``module`` is the simssl module imported (``from ..model import Encoder``: ``simssl.model``) or
    the full dotted name of anything else (``from torch import nn``: ``torch``). ``name``: the module's
    name (default: from ``path``).
    """
    name = name or module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []

    def visit(node, scope):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(child, f"{scope}.{child.name}" if scope else child.name)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in child.names:
                    found.append((scope, f"{base}.{alias.name}" if is_module(f"{base}.{alias.name}") else base))
            elif isinstance(child, ast.Import):
                found.extend((scope, alias.name) for alias in child.names)
            else:
                visit(child, scope)

    visit(ast.parse(path.read_text()), "")
    return found


#: (module, scope, imported) of the lazy imports of the model's user conveniences (``model.embed(frame)``,
#: ``model.save(path)``): the only imports of simssl/model/ from the embedding side, run only when called
MODEL_CONVENIENCES = {
    ("simssl.model.encoder", "Encoder.embed", "simssl.embedding"),
    ("simssl.model.encoder", "Encoder.save", "simssl.checkpoints"),
}


def imports(path: Path) -> set[str]:
    """Every simssl module ``path`` imports, at the top or inside functions, but for :data:`MODEL_CONVENIENCES`."""
    name = module_name(path)
    return {
        module
        for scope, module in scoped_imports(path)
        if module.startswith("simssl") and (name, scope, module) not in MODEL_CONVENIENCES
    }


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in imports(path) if m in modules and m != name} for name, path in modules.items()}


def test_no_import_cycles_between_modules():
    """Packages' ``__init__`` re-exports are left out: a cycle is two modules that need each other."""
    edges = {
        name: {m for m in targets if not (PACKAGE / m.replace("simssl.", "", 1).replace(".", "/")).is_dir()}
        for name, targets in graph().items()
        if not (PACKAGE.parent / name.replace(".", "/")).is_dir()
    }
    state: dict[str, int] = {}

    def visit(node, trail):
        state[node] = 1
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                pytest.fail("import cycle: " + " -> ".join(trail[trail.index(target) :] + [target]))
            if target not in state:
                visit(target, trail + [target])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])


def test_core_never_imports_engine_adapters():
    offenders = {
        name: sorted(m for m in targets if m.startswith("simssl.plugins")) for name, targets in graph().items()
    }
    assert not {name: found for name, found in offenders.items() if found}


def literal_defaults(tree) -> list[tuple[int, str, object]]:
    """(line, name, value) of every default value or class-level assignment written as a literal."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = node.args.args[len(node.args.args) - len(node.args.defaults) :] + node.args.kwonlyargs
            values = node.args.defaults + [d for d in node.args.kw_defaults if d is not None]
            found += [
                (v.lineno, a.arg, ast.literal_eval(v))
                for a, v in zip(arguments, values)
                if isinstance(v, (ast.Constant, ast.Tuple))
                and all(isinstance(e, ast.Constant) for e in getattr(v, "elts", []))
            ]
        elif isinstance(node, (ast.AnnAssign, ast.Assign)) and isinstance(node.value, (ast.Constant, ast.Tuple)):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if all(isinstance(e, ast.Constant) for e in getattr(node.value, "elts", [])):
                found += [(node.lineno, t.id, ast.literal_eval(node.value)) for t in targets if isinstance(t, ast.Name)]
    return found


def test_defaults_are_defined_once():
    """The default Steinhardt degrees and neighbor counts are written as literals only in simssl/defaults.py."""
    shared = {(4, 6), "4,6"}
    counts = {"k": (12, 16), "num_neighbors": (12, 16), "steinhardt_k": (12, 16)}
    repeated = [
        f"{p.relative_to(PACKAGE.parent)}:{line} {name}={value!r}"
        for p in sources()
        if p.name != "defaults.py"
        for line, name, value in literal_defaults(ast.parse(p.read_text()))
        if (isinstance(value, (tuple, str)) and value in shared) or value in counts.get(name, ())
    ]
    assert not repeated


def test_atomic_file_renames_on_success_and_cleans_up_on_failure(tmp_path):
    target = tmp_path / "out.json"
    with AtomicFile(target) as atomic:
        Path(atomic.temporary).write_text("done")
        assert not target.exists()  # nothing at the target until the body succeeded
    assert target.read_text() == "done" and not os.path.exists(partial_path(target))
    with pytest.raises(SimsslError, match="exists; pass --force"):
        AtomicFile(target)
    with pytest.raises(RuntimeError), AtomicFile(target, force=True) as atomic:
        Path(atomic.temporary).write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "done" and not os.path.exists(atomic.temporary)
    with pytest.raises(KeyboardInterrupt), AtomicFile(target, force=True, keep_partial=True) as atomic:
        Path(atomic.temporary).write_text("resumable")
        raise KeyboardInterrupt
    assert Path(atomic.temporary).read_text() == "resumable"  # kept for a resume
    with pytest.raises(SimsslError, match="does not exist"):
        AtomicFile(tmp_path / "no" / "such" / "dir.json")


def test_every_writer_goes_through_the_atomic_helper():
    """No module renames temporary files by itself (``os.replace``) or saves straight to a final path."""
    direct = [
        f"{p.relative_to(PACKAGE.parent)}:{i}"
        for p in sources()
        if p.name != "atomic.py"
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if "os.replace(" in line
        or re.search(r"torch\.save\([^)]*, (path|out)\)", line)
        or re.search(r"savefig\((path|partial)", line)
    ]
    assert not direct
