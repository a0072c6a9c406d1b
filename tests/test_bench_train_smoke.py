"""benchmarks/bench_train.py's per-op profile runs against the engine as it is (it patches every
Function's forward and backward, fast ones that inherit a method from their core Function too),
and leaves every Function as it found it."""
import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("torch")

from minitorch_cnn.core.autograd import Function  # noqa: E402

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_train.py"


def _methods():
    def classes(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from classes(sub)
    return {(cls, m): cls.__dict__.get(m) for cls in set(classes(Function)) for m in ("forward", "backward")}


@pytest.mark.parametrize("model", ["lenet5", "deepcnn"])
def test_op_profile_runs_and_restores_every_function(model):
    spec = importlib.util.spec_from_file_location("bench_train", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    before = _methods()
    step_s, per_op = bench.op_profile(model, steps=2)
    assert step_s > 0
    assert any(label.startswith("Conv2d") for label in per_op)
    assert sum(v for k, v in per_op.items() if not k.startswith("(")) <= step_s * 1.5
    assert _methods() == before
