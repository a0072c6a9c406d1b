"""The core's imports read one way: backend <- tensor <- autograd <- ops (issue 12).

Tensor's methods call autograd and the ops, which are built on Tensor, so the core cannot be
acyclic without patching methods onto Tensor from elsewhere.  The cycle is closed in one
commented place instead: the imports at the bottom of tensor.py.  These tests keep it that way:
no import hides inside a function (but the optional CuPy's), and each core module can be the
first one a program imports.
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "minitorch_cnn"
CORE = sorted([PACKAGE / "tensor.py", PACKAGE / "autograd.py", PACKAGE / "backend.py",
               PACKAGE / "creation.py", PACKAGE / "graph.py", *(PACKAGE / "ops").glob("*.py")])
OPTIONAL = {"cupy", "cupyx"}      # imported on first GPU use only: the CPU path needs NumPy alone


def _imports_inside_functions(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = ["." * node.level + (node.module or "")]
                else:
                    continue
                if not set(names) <= OPTIONAL:
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {', '.join(names)}")
    return found


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_inside_a_function(path):
    assert _imports_inside_functions(path) == []


def test_the_cycle_closes_at_the_bottom_of_tensor_py():
    body = ast.parse((PACKAGE / "tensor.py").read_text()).body
    tensor_class = next(i for i, node in enumerate(body) if isinstance(node, ast.ClassDef) and node.name == "Tensor")
    engine = [i for i, node in enumerate(body) if isinstance(node, ast.ImportFrom)
              and (node.module or "").split(".")[0] in ("autograd", "ops")]
    assert engine and min(engine) > tensor_class
    assert all(i >= len(body) - len(engine) for i in engine), "the engine's imports are tensor.py's last lines"


@pytest.mark.parametrize("module", ["minitorch_cnn.autograd", "minitorch_cnn.ops.conv", "minitorch_cnn.creation"])
def test_a_core_module_imported_first(module):
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True,
                          timeout=120, cwd=PACKAGE.parent)
    assert done.returncode == 0, done.stderr
