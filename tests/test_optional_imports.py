"""The engine's optional packages stay optional.  It never needs torch: every module of
minitorch_cnn imports without it, and none of them even tries to import it (torch is only the
tests' oracle, see tests/torch_models.py).  matplotlib is imported only when a plot is drawn."""
import os
import subprocess
import sys

import minitorch_cnn

# Runs in a fresh interpreter, where no test has imported torch yet.  The finder sits first on
# sys.meta_path, so it sees every attempt, also one inside a try/except ImportError.
IMPORT_EVERY_MODULE = r"""
import importlib, importlib.abc, pkgutil, sys
sys.path.insert(0, {root!r})
tried = []

class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "torchvision"):
            tried.append(name)
            raise ImportError(f"{{name}} is blocked by test_no_torch_import")
        return None

sys.meta_path.insert(0, NoTorch())
import minitorch_cnn
assert minitorch_cnn.__file__.startswith({package!r}), minitorch_cnn.__file__
names = ["minitorch_cnn"]
for info in pkgutil.walk_packages(minitorch_cnn.__path__, "minitorch_cnn."):
    if not info.name.endswith(".__main__"):         # a script: importing it runs it
        importlib.import_module(info.name)
        names.append(info.name)
print("modules imported:", len(names))
assert not tried, f"importing minitorch_cnn tried to import {{sorted(set(tried))}}"
assert not any(m.split(".")[0] == "torch" for m in sys.modules)
"""


def test_no_module_of_the_package_imports_torch():
    package = os.path.dirname(minitorch_cnn.__file__)
    code = IMPORT_EVERY_MODULE.format(root=os.path.dirname(package), package=package)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    count = int(result.stdout.splitlines()[-1].split()[-1])
    assert count >= 40, f"only {count} modules were imported"


def test_package_and_plots_module_import_without_matplotlib():
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "import minitorch_cnn, minitorch_cnn.plots, minitorch_cnn.train\n"
            "assert 'matplotlib.pyplot' not in sys.modules\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(minitorch_cnn.__file__)))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": root})
    assert result.returncode == 0, result.stderr
