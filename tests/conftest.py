"""Shared test helpers: run one function in minitorch_cnn and in PyTorch and compare.

A test writes its computation once, as `fn(F, *tensors)`, where F is either
`minitorch_cnn.nn.functional` or `torch.nn.functional`; Tensor methods and
operators (`x.sum(dim=1)`, `a @ b`, `x[1:]`) are spelled the same in both.
The helpers are exposed as session-scoped fixtures, so they work with
`hypothesis` and need no import path games.

torch is optional: without it `parity_check` skips the tests that ask for it
(tests/_optional.py), and everything else here works on minitorch alone.
"""
import types

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.nn import functional as mtF

from _optional import TORCH_REASON, torch

# float64 parity: both engines evaluate the same formulas in the same precision;
# the remaining differences are summation order, far below 1e-10.
F64 = dict(rtol=1e-10, atol=1e-10)


def to_numpy(t):
    """A numpy copy of a minitorch or torch tensor (or an array)."""
    if isinstance(t, mt.Tensor):
        return np.array(t.detach().numpy())
    if torch is not None and isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy().copy()
    return np.asarray(t)


def assert_close(actual, expected, rtol, atol=None, what=""):
    """|actual − expected| ≤ atol + rtol·|expected| elementwise, same shape and dtype.

    atol=None means a normwise tolerance, atol = rtol · max|expected|: float32
    rounding from a different summation order scales with the size of the terms
    summed (the tensor's magnitude), not with each result element, which may be
    close to 0 after cancellation.
    """
    a, e = to_numpy(actual), to_numpy(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != torch's {e.shape}"
    assert a.dtype == e.dtype, f"{what}: dtype {a.dtype} != torch's {e.dtype}"
    if atol is None:
        atol = rtol * float(np.abs(e).max()) if e.size else 0.0
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what)


def parity(fn, *args, requires_grad=None, rtol=F64["rtol"], atol=F64["atol"], cotangent=None, seed=0):
    """Run fn(F, *args) in minitorch and in torch; compare the output and every input gradient.

    args: numpy arrays become tensors (floating ones require grad unless
    `requires_grad`, one bool per arg, says otherwise); anything else is passed
    as is.  The backward seed is `cotangent` or a seeded standard normal array.
    Returns a namespace (mt, torch: the argument tensors; mt_out, torch_out) for
    further checks such as running statistics.
    """
    if requires_grad is None:
        requires_grad = [isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in args]
    mt_args, t_args = [], []
    for a, rg in zip(args, requires_grad):
        if isinstance(a, np.ndarray):
            mt_args.append(mt.tensor(a, requires_grad=rg))
            t_args.append(torch.tensor(a, requires_grad=rg))
        else:
            mt_args.append(a)
            t_args.append(a)
    mt_out = fn(mtF, *mt_args)
    t_out = fn(torch.nn.functional, *t_args)
    assert_close(mt_out, t_out, rtol, atol, what="output")
    if any(requires_grad):
        if cotangent is None:
            rng = np.random.default_rng(seed)
            cotangent = rng.standard_normal(t_out.shape).astype(to_numpy(t_out).dtype)
        mt_out.backward(mt.tensor(cotangent))
        t_out.backward(torch.tensor(cotangent))
        for i, (m, t, rg) in enumerate(zip(mt_args, t_args, requires_grad)):
            if rg:
                assert m.grad is not None, f"input {i}: minitorch gave no gradient"
                assert_close(m.grad, t.grad, rtol, atol, what=f"gradient of input {i}")
    return types.SimpleNamespace(mt=mt_args, torch=t_args, mt_out=mt_out, torch_out=t_out)


def check_gradients(fn, *args, requires_grad=None):
    """mt.gradcheck of fn(F, *args) (F = minitorch's functional) over the float arrays in args."""
    if requires_grad is None:
        requires_grad = [isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in args]
    inputs = [mt.tensor(a, requires_grad=rg) if isinstance(a, np.ndarray) else a
              for a, rg in zip(args, requires_grad)]
    assert mt.gradcheck(lambda *xs: fn(mtF, *xs), inputs)


def distinct(shape, rng, scale=0.1):
    """Random values with pairwise gaps ≥ scale and |value| ≥ scale / 2.

    No ties (max, max_pool2d) and no kinks (relu at 0) lie within a
    finite-difference step of them.
    """
    n = int(np.prod(shape))
    return (rng.permutation(n) - n // 2 + 0.5).reshape(shape) * scale


@pytest.fixture(scope="session")
def parity_check():
    """parity(fn, *args, ...); a test that asks for it skips without torch."""
    if torch is None:
        pytest.skip(TORCH_REASON)
    return parity


@pytest.fixture(scope="session")
def grad_check():
    return check_gradients


@pytest.fixture(scope="session")
def close():
    return assert_close


@pytest.fixture
def rng():
    """A fresh seeded generator per test: the data a test sees never depends on test order."""
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def distinct_values():
    return distinct


def pytest_report_header(config):
    """Which engine is under test (the checkout or an installed copy) and whether torch is there."""
    import os
    versions = f"numpy {np.__version__}, " + (f"torch {torch.__version__}" if torch is not None else
                                                "torch not installed: the parity tests skip")
    return [f"minitorch_cnn: {os.path.dirname(mt.__file__)}", versions]


def pytest_terminal_summary(terminalreporter):
    """How the fuzz cases ended (tests/_fuzz.py counts them), for the issue notes."""
    import sys
    fuzz = sys.modules.get("_fuzz")
    if fuzz is not None and fuzz.COUNTS:
        counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(fuzz.COUNTS.items()))
        terminalreporter.write_line(f"fuzz cases: {sum(fuzz.COUNTS.values())} ({counts})")
