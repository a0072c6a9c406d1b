"""Torch's own yardstick: PyTorch's OpInfo/ModuleInfo sample inputs through every op and module
here that has torch's name (tools/torch_yardstick.py runs them and says how it compares).

Issue 21's bar: none silently different, none crashes, at least 90% run and match.
float32 and float64 samples on the CPU (the tool's docstring says why). Every sample runs: about
9,300 in ~10 s of CPU on this project's 2-core machine. Should that grow past a minute, CAP = N
runs every k-th sample of an op with more than N per dtype (deterministic), each counted k times
in the share, so the share still estimates the full run's.
"""
import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest")   # torch.testing._internal imports it

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
import torch_yardstick as yardstick  # noqa: E402

import minitorch_cnn as mt  # noqa: E402


CAP = None


@pytest.fixture(scope="module")
def results():
    ops = yardstick.run_ops(cap=CAP)
    modules = yardstick.run_modules()
    return {**ops, **modules}


def _failures(results, outcome):
    return {name: entry["examples"][outcome] for name, entry in results.items() if entry["counts"][outcome]}


def test_no_sample_is_silently_different(results):
    assert _failures(results, "mismatch") == {}


def test_no_sample_crashes(results):
    assert _failures(results, "crash") == {}


def test_at_least_90_percent_run_and_match(results):
    total = yardstick.totals(results, weighted=True)
    share = total["matched"] / total["compared"]
    refused = {name: (entry["counts"]["refused"], entry["examples"]["refused"][0]["why"])
               for name, entry in results.items() if entry["counts"]["refused"]}
    worst = dict(sorted(refused.items(), key=lambda kv: -kv[1][0])[:10])
    assert share >= 0.90, f"{yardstick.summary_line(total)}; most refused: {worst}"


def test_the_yardstick_covers_the_engine(results):
    """Every op family the engine has is in the run: a name lost from the engine (or from the
    resolution of names) would otherwise pass silently."""
    for name in ("add", "Tensor.add", "nn.functional.conv2d", "nn.functional.max_pool2d",
                 "nn.functional.cross_entropy", "nn.Conv2d", "nn.BatchNorm2d", "nn.Linear"):
        assert name in results
    assert yardstick.totals(results)["gradients_matched"] > 500


# ---- the yardstick itself can fail: a wrong result, a NumPy crash and a clear refusal are told apart

def test_a_wrong_result_is_a_mismatch():
    sample = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    outcome, why = yardstick.run_call(lambda x: mt.relu(x) * 1.000001, torch.relu, (sample,), {}, False, False)
    assert outcome == "mismatch" and "values differ" in why


def test_a_wrong_gradient_is_a_mismatch():
    class DoubledBackward(mt.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            return grad * 2.0

    sample = torch.randn(3, dtype=torch.float64, requires_grad=True)
    outcome, why = yardstick.run_call(DoubledBackward.apply, lambda x: x * 1.0, (sample,), {}, False, True)
    assert outcome == "mismatch" and why.startswith("grad")


def test_a_wrong_dtype_is_a_mismatch():
    sample = torch.randn(3, dtype=torch.float32)
    outcome, why = yardstick.run_call(lambda x: x.double(), torch.abs, (sample,), {}, False, False)
    assert outcome == "mismatch" and "dtype" in why


def test_numpy_words_are_a_crash_and_our_words_a_refusal():
    sample = torch.randn(3)

    def numpy_crash(x):
        return np.ones(2) + np.ones(3)   # NumPy's ValueError: not the engine's own words

    def refusal(x):   # the engine's own raise: "matmul: both operands need at least 1 dimension"
        return mt.matmul(x, mt.tensor(1.0))

    assert yardstick.run_call(numpy_crash, torch.abs, (sample,), {}, False, False)[0] == "crash"
    assert yardstick.run_call(lambda x: [][1], torch.abs, (sample,), {}, False, False)[0] == "crash"
    assert yardstick.run_call(refusal, torch.abs, (sample,), {}, False, False)[0] == "refused"
    assert yardstick.run_call(lambda x: mt.abs(x, 3), torch.abs, (sample,), {}, False, False)[0] == "refused"
