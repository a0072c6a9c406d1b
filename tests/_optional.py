"""The test suite's optional packages, and the markers that skip a test without them.

NumPy, pytest and hypothesis are all the gradient checks and the engine's own tests need
(`pip install ".[gradcheck]"`).  The parity tests compare with PyTorch and need torch; a
file where every test does so starts with `torch = pytest.importorskip("torch", ...)`, a
file that mixes them imports `torch` from here (None when it is not installed) and marks
each parity test with `@needs_torch`, so its other tests still run.
"""
import importlib
import importlib.util

import pytest


def _import_or_none(name):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _installed(name):
    """Whether `name` can be imported, without importing it (matplotlib is slow to import)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


torch = _import_or_none("torch")

TORCH_REASON = "needs torch: compares with PyTorch (pip install \".[test]\")"
needs_torch = pytest.mark.skipif(torch is None, reason=TORCH_REASON)
needs_matplotlib = pytest.mark.skipif(not _installed("matplotlib"),
                                      reason="needs matplotlib: draws plots (pip install \".[test]\")")
