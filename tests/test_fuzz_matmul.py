"""Fuzz: matmul (`@`) and dtype/device casts against torch: 1-D, 2-D and batched operands with
broadcast batch dims, zero sizes, mismatched inner dims, mixed dtypes and strided layouts."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from _fuzz import ALL_DTYPES, FLOAT_DTYPES, FUZZ, against_torch, arrays

pytest.importorskip("torch", reason="needs torch: every fuzz case here holds minitorch to torch's outcome")


@st.composite
def matmul_shapes(draw):
    n, k, m = draw(st.integers(0, 4)), draw(st.integers(0, 4)), draw(st.integers(0, 4))
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    a = draw(st.sampled_from([(k,), (n, k), batch + (n, k)]))
    b = draw(st.sampled_from([(k,), (k, m), batch[len(batch) // 2:] + (k, m)]))
    if draw(st.integers(0, 6)) == 0:            # inner dims that do not match
        b = b[:-2] + (k + 1,) + b[-1:] if len(b) >= 2 else (k + 1,)
    if draw(st.integers(0, 10)) == 0:
        a = ()                                    # a 0-d operand: refused by both
    return a, b


@FUZZ
@given(matmul_shapes(), st.data())
def test_matmul(shapes_, data):
    a_shape, b_shape = shapes_
    same = data.draw(st.booleans())
    dtypes = FLOAT_DTYPES[:2] if same else (np.float64, np.float32, np.int64)
    a = data.draw(arrays(a_shape, dtypes=dtypes))
    b = data.draw(arrays(b_shape, dtypes=(a.dtype.type,) if same else dtypes))
    against_torch("matmul", lambda lib, x, y: x @ y, [a, b])


@FUZZ
@given(arrays(dtypes=ALL_DTYPES), st.sampled_from(["float", "double", "long", "half", "bool", "int"]))
def test_dtype_casts(x, method):
    def run(lib, t):
        if lib.__name__ == "torch" or method not in ("half", "bool", "int"):
            return getattr(t, method)()
        return t.to({"half": lib.float16, "bool": lib.bool_, "int": lib.int32}[method])
    against_torch("to", run, [x])
