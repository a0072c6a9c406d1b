"""Complex dtypes are refused where arrays enter the engine, as the README says (issue 21 found
mt.tensor(complex array) accepted)."""
import numpy as np
import pytest

import minitorch_cnn as mt


@pytest.mark.parametrize("make", [
    lambda: mt.tensor(np.array([1 + 2j])),
    lambda: mt.tensor(np.zeros(3, dtype=np.complex64)),
    lambda: mt.tensor(np.ones(2), dtype=np.complex128),
    lambda: mt.tensor([1.0, 2.0], dtype=np.complex64),
    lambda: mt.tensor([1 + 2j]),
    lambda: mt.from_numpy(np.array([1j])),
    lambda: mt.zeros(2).masked_fill(mt.tensor([True, False]), 1j),
])
def test_complex_is_refused_with_a_type_error(make):
    with pytest.raises(TypeError, match="complex"):
        make()


def test_strings_are_refused_too():
    with pytest.raises(TypeError, match="tensor: expected an array of numbers"):
        mt.tensor(np.array(["a", "b"]))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int8, np.int64, np.uint8, np.bool_])
def test_real_dtypes_still_enter(dtype):
    assert mt.tensor(np.zeros(2, dtype=dtype)).dtype == dtype
