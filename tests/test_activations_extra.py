"""GELU (both forms), SiLU, ELU, ReLU6, Hardtanh, Softplus, Hardswish (issue 23, part C):
gradient checks (torch-free), torch parity over seeded random inputs with the kinks included
(values and gradients there equal to torch's), and the off-happy-path cases against torch.

Tolerances: float64 1e-10 (the same formulas in the same precision: only rounding differs);
float32 2e-6 relative to the largest value; float16 (computed in float32 and rounded, as torch on
the CPU) one float16 ulp, 1e-3 relative.
"""
import math
import warnings

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.core.activation_extra import erf
from minitorch_cnn.nn import functional as F

from _optional import torch

needs_torch = pytest.mark.skipif(torch is None, reason="needs torch")

# (name, call as fn(F, x), the values where the function has a kink or a branch switch)
CASES = [
    ("gelu", lambda F, x: F.gelu(x), [0.0]),
    ("gelu_tanh", lambda F, x: F.gelu(x, approximate="tanh"), [0.0]),
    ("silu", lambda F, x: F.silu(x), [0.0]),
    ("elu", lambda F, x: F.elu(x), [0.0]),
    ("elu_alpha", lambda F, x: F.elu(x, alpha=0.7), [0.0]),
    ("elu_negative_alpha", lambda F, x: F.elu(x, -1.5), [0.0]),
    ("relu6", lambda F, x: F.relu6(x), [0.0, 6.0]),
    ("hardtanh", lambda F, x: F.hardtanh(x), [-1.0, 1.0]),
    ("hardtanh_bounds", lambda F, x: F.hardtanh(x, -0.5, 2.0), [-0.5, 2.0]),
    ("hardtanh_equal_bounds", lambda F, x: F.hardtanh(x, 0.25, 0.25), [0.25]),
    ("softplus", lambda F, x: F.softplus(x), [20.0]),
    ("softplus_beta", lambda F, x: F.softplus(x, beta=2.0, threshold=3.0), [1.5]),
    ("softplus_negative_beta", lambda F, x: F.softplus(x, -0.5, 4.0), [-8.0]),
    ("hardswish", lambda F, x: F.hardswish(x), [-3.0, 3.0]),
]
IDS = [c[0] for c in CASES]


def _inputs(rng, kinks, shape=(3, 4, 5), scale=4.0):
    x = rng.standard_normal(shape) * scale
    x.flat[: 2 * len(kinks)] = np.repeat(kinks, 2)     # each kink, twice, in the mix
    x.flat[-1] = 25.0                                   # far out: softplus's linear side, gelu's tail
    return x


# ---- the error function the exact GELU is built on ---------------------------------------------

def test_erf_matches_math_erf_to_about_1e_15():
    x = np.concatenate([np.linspace(-9, 9, 20001), [0.0, -0.0, 1e-300, 3.0, -3.0, 2.999999, 3.000001]])
    expected = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(erf(x), expected, rtol=4e-15, atol=2e-15)
    assert erf(np.array([np.inf, -np.inf])).tolist() == [1.0, -1.0]
    assert np.isnan(erf(np.array([np.nan]))).all()
    assert erf(np.float32([0.5])).dtype == np.float32


# ---- gradient checks (torch-free) --------------------------------------------------------------

@pytest.mark.parametrize("name,fn,kinks", CASES, ids=IDS)
def test_gradcheck(grad_check, distinct_values, rng, name, fn, kinks):
    # distinct values 0.1 apart, shifted by 0.03: no kink within a finite-difference step
    x = distinct_values((2, 3, 4), rng, scale=0.35) + 0.03
    grad_check(fn, x)


@pytest.mark.parametrize("shape", [(), (5,), (2, 3, 4, 5)])
def test_gradcheck_shapes(grad_check, rng, shape):
    x = np.asarray(rng.standard_normal(shape) + 0.013)
    grad_check(lambda F, x: F.gelu(x) + F.silu(x) * F.softplus(x, 1.5, 2.0) + F.elu(x, 0.3), x)


def test_gradients_at_the_kinks_are_torchs_sides():
    """The one-sided value torch takes at each kink, written out (torch-free)."""
    def grad(fn, values):
        x = mt.tensor(np.array(values, dtype=np.float64), requires_grad=True)
        fn(x).sum().backward()
        return x.grad.numpy().tolist()

    assert grad(F.relu6, [0.0, 6.0, 3.0, np.nan]) == [0.0, 0.0, 1.0, 1.0]
    assert grad(F.hardtanh, [-1.0, 1.0, 0.0, np.nan]) == [0.0, 0.0, 1.0, 1.0]
    assert grad(F.hardswish, [-3.0, 3.0, 0.0, np.nan]) == [0.0, 1.0, 0.5, 1.0]
    assert grad(lambda x: F.elu(x, 2.0), [0.0, np.nan]) == [2.0, 1.0]
    assert grad(lambda x: F.softplus(x, 1.0, 2.0), [3.0])[0] == 1.0


# ---- parity with torch -------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name,fn,kinks", CASES, ids=IDS)
def test_parity_float64(parity_check, seed, name, fn, kinks):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(1, 6, size=rng.integers(1, 5)))
    parity_check(fn, _inputs(rng, kinks, shape=shape + (4,)), seed=seed)


@needs_torch
@pytest.mark.parametrize("name,fn,kinks", CASES, ids=IDS)
def test_parity_float32(parity_check, rng, name, fn, kinks):
    parity_check(fn, _inputs(rng, kinks).astype(np.float32), rtol=2e-6, atol=None)


@needs_torch
@pytest.mark.parametrize("name,fn,kinks", CASES, ids=IDS)
def test_parity_float16(close, rng, name, fn, kinks):
    x = _inputs(rng, kinks, shape=(40,), scale=3.0).astype(np.float16)
    ours, theirs = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = fn(F, ours), fn(torch.nn.functional, theirs)
    close(out, expected, 1e-3, what="float16 output")
    g = rng.standard_normal(x.shape).astype(np.float16)
    out.backward(mt.tensor(g))
    expected.backward(torch.tensor(g))
    close(ours.grad, theirs.grad, 2e-3, what="float16 gradient")


@needs_torch
@pytest.mark.parametrize("name,fn,kinks", CASES, ids=IDS)
def test_nan_and_inf_as_torch(close, name, fn, kinks):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, 1.0], dtype=np.float64)
    ours, theirs = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = fn(F, ours), fn(torch.nn.functional, theirs)
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    out.backward(mt.ones(5, dtype=mt.float64))
    expected.backward(torch.ones(5, dtype=torch.float64))
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@needs_torch
@pytest.mark.parametrize("name,fn,kinks", CASES, ids=IDS)
def test_empty_as_torch(name, fn, kinks):
    for shape in [(0,), (0, 3), (2, 0, 4)]:
        out = fn(F, mt.zeros(shape, requires_grad=True))
        expected = fn(torch.nn.functional, torch.zeros(shape, requires_grad=True))
        assert out.shape == tuple(expected.shape) and str(out.dtype) == str(expected.dtype).replace("torch.", "")


# ---- off the happy path -------------------------------------------------------------------------

REFUSE_INTEGERS = ["gelu", "silu", "elu", "softplus", "hardswish"]


@needs_torch
@pytest.mark.parametrize("op", REFUSE_INTEGERS)
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_integer_and_bool_refused_as_torch(op, dtype):
    values = np.array([1, 0, 2]).astype(dtype)
    with pytest.raises((RuntimeError, NotImplementedError)):
        getattr(torch.nn.functional, op)(torch.tensor(values))
    with pytest.raises(TypeError, match=op):
        getattr(F, op)(mt.tensor(values))


@needs_torch
@pytest.mark.parametrize("op,args", [("hardtanh", ()), ("hardtanh", (-0.5, 2.5)), ("hardtanh", (-2.7, -1.2)),
                                     ("relu6", ())])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "int8"])
def test_integer_hardtanh_clamps_as_torch(op, args, dtype):
    if dtype == "uint8" and op == "hardtanh" and math.trunc(args[0] if args else -1.0) < 0:
        return      # refused: test_integer_hardtanh_bounds_refused_as_torch
    values = np.array([0, 1, 2, 5, 7, 9, 100]).astype(dtype)
    if dtype.startswith("int"):
        values = values - np.array(3).astype(dtype)
    ours = getattr(F, op)(mt.tensor(values), *args)
    theirs = getattr(torch.nn.functional, op)(torch.tensor(values), *args)
    assert str(ours.dtype) == dtype
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@needs_torch
@pytest.mark.parametrize("dtype,bounds", [("uint8", (-2.0, 0.0)), ("uint8", (1.5, 300.0)), ("int8", (-200.0, 3.0))])
def test_integer_hardtanh_bounds_refused_as_torch(dtype, bounds):
    values = np.array([0, 1, 2]).astype(dtype)
    with pytest.raises(RuntimeError):
        torch.nn.functional.hardtanh(torch.tensor(values), *bounds)
    with pytest.raises(RuntimeError, match="hardtanh"):
        F.hardtanh(mt.tensor(values), *bounds)


@pytest.mark.parametrize("op", ["hardtanh", "relu6"])
def test_bool_hardtanh_refused(op):
    with pytest.raises(TypeError, match=op):
        getattr(F, op)(mt.tensor([True, False]))


@pytest.mark.parametrize("op", REFUSE_INTEGERS + ["hardtanh", "relu6"])
def test_non_tensor_refused(op):
    with pytest.raises(TypeError, match=op):
        getattr(F, op)([1.0, 2.0])
    with pytest.raises(TypeError, match=op):
        getattr(F, op)(np.ones(3))


def test_bad_arguments_refused_naming_the_op():
    x = mt.ones(3)
    with pytest.raises(RuntimeError, match="gelu.*none or tanh"):
        F.gelu(x, approximate="erf")
    with pytest.raises(ValueError, match="hardtanh.*min_val"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(TypeError, match="softplus: beta"):
        F.softplus(x, beta="2")
    with pytest.raises(TypeError, match="elu: alpha"):
        F.elu(x, alpha=None)
    with pytest.raises(AssertionError, match="max_val"):
        mt.nn.Hardtanh(1.0, 1.0)


@needs_torch
def test_bad_arguments_refused_by_torch_too():
    x = torch.ones(3)
    with pytest.raises(RuntimeError):
        torch.nn.functional.gelu(x, approximate="erf")
    with pytest.raises(ValueError):
        torch.nn.functional.hardtanh(x, 2.0, 1.0)
    with pytest.raises(AssertionError):
        torch.nn.Hardtanh(1.0, 1.0)


@pytest.mark.parametrize("op", ["silu", "elu", "hardtanh", "relu6", "hardswish"])
def test_inplace(op):
    """inplace=True: torch's values, out of place; refused on a leaf that requires grad, as torch."""
    x = mt.tensor([-4.0, -0.5, 0.5, 7.0])
    before = x.numpy().copy()
    np.testing.assert_array_equal(getattr(F, op)(x, inplace=True).numpy(), getattr(F, op)(x).numpy())
    np.testing.assert_array_equal(x.numpy(), before)
    with pytest.raises(RuntimeError, match=f"{op}.*leaf"):
        getattr(F, op)(mt.ones(2, requires_grad=True), inplace=True)
    y = mt.ones(2, requires_grad=True) * 2       # not a leaf: accepted, and the gradient flows
    getattr(F, op)(y, inplace=True).sum().backward()


@needs_torch
def test_positional_arguments_as_torch(close):
    x = np.linspace(-5, 25, 31)
    with pytest.raises(TypeError):
        torch.nn.functional.gelu(torch.ones(2), "tanh")     # keyword-only in both
    with pytest.raises(TypeError):
        F.gelu(mt.ones(2), "tanh")
    calls = [lambda F, x: F.elu(x, 0.5, False),
             lambda F, x: F.hardtanh(x, -2.0, 3.0, False), lambda F, x: F.softplus(x, 0.5, 5),
             lambda F, x: F.relu6(x, False), lambda F, x: F.hardswish(x, False), lambda F, x: F.silu(x, False)]
    for fn in calls:
        close(fn(F, mt.tensor(x)), fn(torch.nn.functional, torch.tensor(x)), 1e-12)


# ---- modules -----------------------------------------------------------------------------------

MODULES = [("GELU", ()), ("GELU", ("tanh",)), ("SiLU", ()), ("SiLU", (True,)), ("ELU", ()), ("ELU", (0.5, True)),
           ("ReLU6", ()), ("ReLU6", (True,)), ("Hardtanh", ()), ("Hardtanh", (-2, 3, True)),
           ("Hardtanh", (-2.5, 0.5)), ("Softplus", ()), ("Softplus", (2, 4)), ("Hardswish", ()),
           ("Hardswish", (True,))]


@needs_torch
@pytest.mark.parametrize("name,args", MODULES)
def test_module_matches_torch(close, rng, name, args):
    ours, theirs = getattr(mt.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    ours.load_state_dict(theirs.state_dict())
    x = rng.standard_normal((2, 3, 4)) * 4
    inplace = True in args
    a, b = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = ours(a * 1 if inplace else a)
    expected = theirs(b * 1 if inplace else b)
    close(out, expected, 1e-10)
    out.sum().backward()
    expected.sum().backward()
    close(a.grad, b.grad, 1e-10)


@needs_torch
def test_hardtanh_deprecated_keywords_as_torch():
    with pytest.warns(FutureWarning, match="min_value"):
        ours = mt.nn.Hardtanh(min_value=-3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.Hardtanh(min_value=-3.0)
    assert repr(ours) == repr(theirs)
    assert isinstance(mt.nn.ReLU6(), mt.nn.Hardtanh)


def test_module_refuses_non_tensor():
    with pytest.raises(TypeError, match="GELU"):
        mt.nn.GELU()([1.0])
