"""A floor to start from (issue 20): the core's imports run one way, the package has no
import circle, and importing it changes nothing in the process.

The core reads bottom-up: backend <- core/versions <- core/tensor <- core/autograd <- core ops.
Tensor's methods call ops built on Tensor, so they are bound onto the class in one named
place, minitorch_cnn/tensor.py, after the ops exist.
"""
import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "minitorch_cnn"
TOOLS = PACKAGE.parent / "tools"
CORE = sorted((PACKAGE / "core").glob("*.py"))
OPTIONAL = {"cupy", "cupyx"}      # imported on first GPU use only: the CPU path needs NumPy alone


def _load_metrics():
    spec = importlib.util.spec_from_file_location("engine_metrics", TOOLS / "engine_metrics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _imports_inside_functions(path):
    found = []
    for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return found


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_no_import_inside_a_core_function(path):
    assert _imports_inside_functions(path) == []


def test_the_package_has_no_import_circle():
    metrics = _load_metrics()
    assert metrics.circles(metrics.import_graph(PACKAGE)) == []


def test_the_core_imports_run_one_way():
    """Within core/, a module imports only modules before it in this order."""
    order = ["versions", "hooks", "tensor", "autograd", "elementwise", "reduce", "shape", "linear",
             "conv", "pool", "norm", "dropout", "activation", "loss",
             # the toolbox beside the learner's path (docs/README.md), each on the core above
             "fold", "conv_transpose", "norm_axes", "resample", "unpool", "activation_extra", "loss_extra"]
    graph = _load_metrics().import_graph(PACKAGE)
    for module in sorted(graph):
        if not module.startswith("minitorch_cnn.core."):
            continue
        name = module.rsplit(".", 1)[1]
        for target in graph[module]:
            if target.startswith("minitorch_cnn.core."):
                other = target.rsplit(".", 1)[1]
                assert order.index(other) < order.index(name), f"core/{name}.py imports core/{other}.py"


def test_tensor_methods_are_bound_in_one_place():
    """Only minitorch_cnn/tensor.py sets attributes on Tensor from outside its class."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path == PACKAGE / "tensor.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setattr" and node.args \
                    and getattr(node.args[0], "id", None) == "Tensor":
                offenders.append(str(path.relative_to(PACKAGE)))
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Attribute) and getattr(target.value, "id", None) == "Tensor":
                        offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


PROBE = r"""
import ctypes, sys
calls = []
real = ctypes.CDLL
ctypes.CDLL = lambda *a, **k: calls.append(a) or real(*a, **k)
import minitorch_cnn
loaded = sorted(m for m in sys.modules if m.startswith(("cupy", "minitorch_cnn.cuda.")))
print(repr((calls, loaded)))
"""


def test_importing_the_package_changes_no_setting_and_loads_no_cuda_code():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120,
                          cwd=PACKAGE.parent)
    assert done.returncode == 0, done.stderr
    calls, loaded = ast.literal_eval(done.stdout.strip())
    assert calls == [], "importing minitorch_cnn loaded a C library (mallopt belongs to training)"
    assert loaded == []


@pytest.mark.parametrize("module", ["minitorch_cnn.core.autograd", "minitorch_cnn.core.conv",
                                    "minitorch_cnn.ops.conv", "minitorch_cnn.creation", "minitorch_cnn.fast.conv"])
def test_a_module_imported_first(module):
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True,
                          timeout=120, cwd=PACKAGE.parent)
    assert done.returncode == 0, done.stderr
