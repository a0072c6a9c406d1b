"""Fuzz: in-place ops against torch on random shapes, dtypes, values and layouts, both under
no_grad (an optimizer's update) and recorded in the graph (on a non-leaf)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minitorch_cnn as mt
from _fuzz import ALL_DTYPES, FUZZ, against_torch, arrays, shapes

pytest.importorskip("torch", reason="needs torch: every fuzz case here holds minitorch to torch's outcome")

OPS = ["add_", "sub_", "mul_", "div_"]


@st.composite
def broadcast_pair(draw):
    """x's shape, and a shape that broadcasts to it (or, sometimes, one that does not)."""
    shape = draw(shapes(max_dims=3))
    other = list(shape[draw(st.integers(0, len(shape))):])
    other = [1 if draw(st.booleans()) else n for n in other]
    if draw(st.integers(0, 5)) == 0:
        other = list(draw(shapes(max_dims=3)))      # usually not broadcastable to x
    return shape, tuple(other)


@FUZZ
@given(broadcast_pair(), st.sampled_from(OPS), st.data())
def test_in_place_arithmetic_under_no_grad(shapes_, op, data):
    shape, other_shape = shapes_
    x = data.draw(arrays(shape, dtypes=ALL_DTYPES))
    y = data.draw(arrays(other_shape, dtypes=ALL_DTYPES))

    def run(lib, tx, ty):
        with (mt.no_grad() if lib is mt else lib.no_grad()):
            getattr(tx, op)(ty)
        return tx
    against_torch(op, run, [x, y], requires_grad=[False, False])


@FUZZ
@given(broadcast_pair(), st.sampled_from(OPS), st.data())
def test_in_place_arithmetic_recorded_on_a_non_leaf(shapes_, op, data):
    shape, other_shape = shapes_
    x = data.draw(arrays(shape, dtypes=(np.float64,), special=False))
    y = data.draw(arrays(other_shape, dtypes=(np.float64,), special=False, low=0.5, high=2.0))
    against_torch(op, lambda lib, tx, ty: getattr(tx * 1.5, op)(ty * 1.0), [x, y])


@FUZZ
@given(arrays(dtypes=ALL_DTYPES), st.sampled_from([0, 1, -2.5, True, float("nan")]),
       st.sampled_from(["fill_", "zero_", "add_", "mul_"]))
def test_in_place_with_a_python_number(x, value, op):
    def run(lib, tx):
        with (mt.no_grad() if lib is mt else lib.no_grad()):
            getattr(tx, op)(*(() if op == "zero_" else (value,)))
        return tx
    against_torch(op, run, [x], requires_grad=[False])


@FUZZ
@given(broadcast_pair(), st.data())
def test_copy_(shapes_, data):
    shape, other_shape = shapes_
    x = data.draw(arrays(shape, dtypes=ALL_DTYPES))
    y = data.draw(arrays(other_shape, dtypes=ALL_DTYPES))
    against_torch("copy_", lambda lib, tx, ty: tx.copy_(ty), [x, y], requires_grad=[False, False])


@FUZZ
@given(arrays(dtypes=ALL_DTYPES), st.sampled_from([None, -1, 0, 0.5, 2]), st.sampled_from([None, -0.5, 1, 3]))
def test_clamp_(x, low, high):
    def run(lib, tx):
        with (mt.no_grad() if lib is mt else lib.no_grad()):
            tx.clamp_(low, high)
        return tx
    against_torch("clamp", run, [x], requires_grad=[False])


@FUZZ
@given(arrays(shape=(3, 4), dtypes=(np.float64, np.float32, np.int64)),
       st.sampled_from([0, -1, (1, slice(None)), (slice(None), 2), slice(1, 3), (0, 3), 5, (slice(None), 7)]),
       st.sampled_from([1.5, -2, 0, float("inf")]), st.booleans())
def test_setitem(x, index, value, recorded):
    if recorded and x.dtype.kind != "f":
        recorded = False

    def run(lib, tx):
        target = tx * 1 if recorded else tx
        target[index] = value
        return target
    against_torch("setitem", run, [x], requires_grad=[recorded])
