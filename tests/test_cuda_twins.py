"""The NumPy functions marked @cuda_twin and their CUDA launch wrappers stay in step.

No GPU is needed.  On CuPy arrays each of these NumPy functions hands its call to the
wrapper of the same name in minitorch_cnn/cuda/kernels.py, so the two must take the
same parameters, and the dispatch must pass every argument through unchanged.
tests/test_cuda.py then checks the results on a real GPU, tests/test_kernels_host.py
the kernels themselves on the CPU.
"""
import inspect

import numpy as np
import pytest

from minitorch_cnn import backend
from minitorch_cnn.cuda import kernels
from minitorch_cnn.fast import conv
from minitorch_cnn.fast import pool

TWINS = [conv.im2col, conv.col2im, pool.max_pool2d_forward, pool.max_pool2d_backward,
         pool.avg_pool2d_forward, pool.avg_pool2d_backward]


@pytest.mark.parametrize("fn", TWINS, ids=lambda fn: fn.__name__)
def test_the_kernel_wrapper_takes_the_same_parameters(fn):
    assert inspect.signature(fn) == inspect.signature(getattr(kernels, fn.__name__))


class FakeGpuArray(np.ndarray):
    """Stands for a CuPy array: the dispatch only asks the backend for its module."""


@pytest.mark.parametrize("fn", TWINS, ids=lambda fn: fn.__name__)
def test_a_gpu_array_goes_to_the_kernel_wrapper_with_every_argument(fn, monkeypatch):
    real_module = backend.get_array_module
    monkeypatch.setattr(backend, "get_array_module",
                        lambda a: object() if isinstance(a, FakeGpuArray) else real_module(a))
    calls = []
    monkeypatch.setattr(kernels, fn.__name__, lambda *args, **kwargs: calls.append((args, kwargs)) or "gpu")
    array = np.zeros((1, 1, 2, 2)).view(FakeGpuArray)
    assert fn(array, "a", "b", key="c") == "gpu"
    assert calls == [((array, "a", "b"), {"key": "c"})]


def test_a_numpy_array_stays_on_the_numpy_code(monkeypatch):
    monkeypatch.setattr(kernels, "im2col", lambda *args: pytest.fail("NumPy input reached the CUDA wrapper"))
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    col = conv.im2col(x, (2, 2), (2, 2), (0, 0), (1, 1))
    np.testing.assert_array_equal(col, [[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]])
