"""The fuzz harness: run one computation in minitorch_cnn and in PyTorch on the same inputs and
hold minitorch to torch's outcome.

    outcome = against_torch("max", lambda lib, x: lib.max(x, dim=1), [x_array], grad=True)

`lib` is the module `minitorch_cnn` or `torch`; tensors' methods and operators are spelled
alike in both, so one lambda serves both engines.  The rules:

* torch returns a result -> minitorch returns the same: the same structure (a tensor, a tuple, a
  named tuple with the same field names, a Python number), shapes, dtypes and values (float64 to
  1e-8, NaN where torch has NaN), and, with grad=True, the same gradient for every input that
  requires one (the leaf's dtype, None where torch's is None).
* torch raises -> minitorch raises a TypeError, ValueError, RuntimeError or IndexError whose
  message names the op.  What torch refuses, we refuse.
* minitorch may refuse something torch accepts only where the caller says so (`refuse_ok`, for
  what the engine does not support: the README lists those), and then only with a clear error.

Every call is counted by outcome; the test session prints the counts (conftest.py).
Without torch, against_torch skips the test that calls it; the strategies work anyway.
"""
import collections

import numpy as np
import pytest
from hypothesis import HealthCheck, settings, strategies as st

import minitorch_cnn as mt

from _optional import TORCH_REASON, torch

# Derandomized: CI sees the same cases on every run and every machine.
settings.register_profile(
    "fuzz", derandomize=True, deadline=None, print_blob=True, max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
FUZZ = settings.get_profile("fuzz")

CLEAR_ERRORS = (TypeError, ValueError, RuntimeError, IndexError)

# Tolerances by result dtype.  float64: the 1e-8.  float32/float16: the two engines
# round intermediate results differently (torch computes float16 ops in float32 on the CPU).
TOLERANCES = {np.dtype(np.float64): (1e-8, 1e-8), np.dtype(np.float32): (1e-4, 1e-5),
              np.dtype(np.float16): (1e-2, 1e-2)}

COUNTS = collections.Counter()     # "matched", "both refused", "refused (unsupported)"


def torch_dtype_to_numpy(dtype):
    return torch.empty(0, dtype=dtype).numpy().dtype


# ---- strategies ------------------------------------------------------------------------
def shapes(min_dims=0, max_dims=4, min_side=0, max_side=4):
    """Array shapes, zero-size sides included by default."""
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


FLOAT_DTYPES = (np.float64, np.float32, np.float16)
ALL_DTYPES = FLOAT_DTYPES + (np.int64, np.int32, np.uint8, np.bool_)


@st.composite
def arrays(draw, shape=None, dtypes=(np.float64,), special=True, low=-3.0, high=3.0):
    """A NumPy array of a drawn dtype; floats may hold NaN/±inf (special=True), and the array
    is sometimes a non-contiguous (transposed or reversed) view of the same values."""
    shape = draw(shapes()) if shape is None else tuple(shape)
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if dtype.kind == "b":
        a = np.asarray(rng.random(shape) < 0.5)
    elif dtype.kind in "iu":
        a = rng.integers(0 if dtype.kind == "u" else -5, 6, shape).astype(dtype)
    else:
        a = rng.uniform(low, high, shape).astype(dtype)
        if special and a.size and draw(st.integers(0, 4)) == 0:
            flat = a.reshape(-1)
            for _ in range(draw(st.integers(1, 3))):
                flat[rng.integers(flat.size)] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    layout = draw(st.sampled_from(["c", "c", "transposed", "reversed"])) if a.ndim >= 1 else "c"
    if layout == "transposed" and a.ndim >= 2:
        a = np.ascontiguousarray(a.swapaxes(0, -1)).swapaxes(0, -1)   # same values, F-like strides
    elif layout == "reversed":
        a = np.ascontiguousarray(a[::-1])[::-1]                         # same values, negative stride
    return a


# ---- running both engines --------------------------------------------------------------
def _leaves(args, requires_grad):
    """Each array argument as (a minitorch Tensor over that very array, a torch tensor)."""
    if requires_grad is None:
        requires_grad = [isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in args]
    ours, theirs = [], []
    for a, rg in zip(args, requires_grad):
        if isinstance(a, np.ndarray):
            # The view itself goes into minitorch (strides kept, negative ones too); torch gets
            # a contiguous copy (its values never depend on the layout).
            ours.append(mt.Tensor(a, requires_grad=bool(rg)))
            theirs.append(torch.tensor(np.array(a, order="C"), requires_grad=bool(rg)))
        else:
            ours.append(a)
            theirs.append(a)
    return ours, theirs, requires_grad


def _flatten(out, path="output"):
    """(path, value) for each tensor or number in a (possibly nested, named) result."""
    if isinstance(out, (mt.Tensor, torch.Tensor)):
        return [(path, out)]
    if isinstance(out, tuple) and hasattr(out, "_fields"):
        return [item for name in out._fields for item in _flatten(getattr(out, name), f"{path}.{name}")]
    if isinstance(out, (tuple, list)):
        return [item for i, v in enumerate(out) for item in _flatten(v, f"{path}[{i}]")]
    return [(path, out)]


def _structure(out):
    if isinstance(out, (mt.Tensor, torch.Tensor)):
        return "tensor"
    if isinstance(out, tuple) and hasattr(out, "_fields"):
        return ("named", tuple(out._fields), tuple(_structure(getattr(out, f)) for f in out._fields))
    if isinstance(out, (tuple, list)):
        return (type(out).__name__, tuple(_structure(v) for v in out))
    return type(out).__name__


def to_numpy(t):
    if isinstance(t, mt.Tensor):
        return np.array(mt.backend.to_numpy(t.data))
    if isinstance(t, torch.Tensor):
        return t.detach().numpy().copy()
    return np.asarray(t)


def assert_same(actual, expected, what, rtol=None, atol=None):
    """Same shape, dtype and values (NaN where NaN); integer and bool results exactly."""
    a, e = to_numpy(actual), to_numpy(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape}, torch's {e.shape}"
    assert a.dtype == e.dtype, f"{what}: dtype {a.dtype}, torch's {e.dtype}"
    if a.dtype.kind in "biu":
        np.testing.assert_array_equal(a, e, err_msg=what)
        return
    default_rtol, default_atol = TOLERANCES.get(a.dtype, (1e-8, 1e-8))
    np.testing.assert_allclose(a.astype(np.float64), e.astype(np.float64), equal_nan=True, err_msg=what,
                               rtol=default_rtol if rtol is None else rtol,
                               atol=default_atol if atol is None else atol)


def _assert_clear(exc, op, what):
    assert isinstance(exc, CLEAR_ERRORS), \
        f"{op}: {what} raised {type(exc).__name__}: {exc} (expected TypeError/ValueError/RuntimeError/IndexError)"
    assert op.lower() in str(exc).lower(), f"{op}: {what} raised an error that does not name the op: {exc!r}"


def against_torch(op, fn, args, requires_grad=None, grad=True, refuse_ok=False, rtol=None, atol=None,
                  seed=0):
    """Run fn(mt, *tensors) and fn(torch, *tensors); hold minitorch to torch's outcome (see the
    module docstring).  Returns "matched", "both refused" or "refused (unsupported)"."""
    if torch is None:
        pytest.skip(TORCH_REASON)
    ours_args, torch_args, requires_grad = _leaves(args, requires_grad)
    try:
        expected = fn(torch, *torch_args)
    except Exception as torch_exc:     # torch refuses: so must we, clearly
        try:
            got = fn(mt, *ours_args)
        except Exception as exc:
            _assert_clear(exc, op, "a call torch refuses")
            COUNTS["both refused"] += 1
            return "both refused"
        raise AssertionError(f"{op}: torch refuses ({type(torch_exc).__name__}: {torch_exc}) "
                             f"but minitorch returned {got!r}")
    try:
        got = fn(mt, *ours_args)
    except Exception as exc:
        if not refuse_ok:
            raise AssertionError(f"{op}: torch returns a result, minitorch raised "
                                 f"{type(exc).__name__}: {exc}") from exc
        _assert_clear(exc, op, "an unsupported call")
        COUNTS["refused (unsupported)"] += 1
        return "refused (unsupported)"
    assert _structure(got) == _structure(expected), \
        f"{op}: result structure {_structure(got)}, torch's {_structure(expected)}"
    pairs = list(zip(_flatten(got), _flatten(expected)))
    for (path, a), (_, e) in pairs:
        if isinstance(e, torch.Tensor):
            assert isinstance(a, mt.Tensor), f"{op}: {path} is {type(a).__name__}, torch's is a tensor"
            assert_same(a, e, f"{op}: {path}", rtol, atol)
        else:
            assert type(a) is type(e), f"{op}: {path} is {type(a).__name__}, torch's is {type(e).__name__}"
            assert_same(np.asarray(a), np.asarray(e), f"{op}: {path}", rtol, atol)
    if grad and any(requires_grad):
        _compare_gradients(op, pairs, ours_args, torch_args, requires_grad, seed, rtol, atol)
    COUNTS["matched"] += 1
    return "matched"


def _compare_gradients(op, pairs, ours_args, torch_args, requires_grad, seed, rtol, atol):
    rng = np.random.default_rng(seed)
    ours_total = theirs_total = None
    for (_, a), (_, e) in pairs:
        if isinstance(e, torch.Tensor) and e.requires_grad and e.dtype.is_floating_point:
            v = rng.standard_normal(tuple(e.shape)).astype(torch_dtype_to_numpy(e.dtype))
            ours_term = (a * mt.tensor(v)).sum()
            theirs_term = (e * torch.from_numpy(v)).sum()
            ours_total = ours_term if ours_total is None else ours_total + ours_term
            theirs_total = theirs_term if theirs_total is None else theirs_total + theirs_term
    if theirs_total is None:
        return
    try:
        theirs_total.backward()
    except Exception as torch_exc:
        try:
            ours_total.backward()
        except Exception as exc:
            _assert_clear(exc, op, "a backward torch refuses")
            return
        raise AssertionError(f"{op}: torch's backward raises ({torch_exc}) but minitorch's does not")
    ours_total.backward()
    for i, (m, t, rg) in enumerate(zip(ours_args, torch_args, requires_grad)):
        if not rg:
            continue
        if t.grad is None:
            assert m.grad is None or not np.any(to_numpy(m.grad)), \
                f"{op}: input {i} got a gradient, torch's is None"
            continue
        assert m.grad is not None, f"{op}: input {i} got no gradient, torch's is {t.grad}"
        assert_same(m.grad, t.grad, f"{op}: gradient of input {i}", rtol, atol)
