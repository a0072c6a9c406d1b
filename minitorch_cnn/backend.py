"""Devices and array modules.

Every array in the engine is either a NumPy array (device "cpu") or a CuPy
array (device "cuda").  Ops never import numpy or cupy to compute: they ask
`get_array_module(array)` for the module that owns their inputs, so one piece
of code serves both devices.  CuPy is imported lazily, only when a GPU is asked
for, so the CPU path needs nothing but NumPy.
"""
import ctypes
import functools
import os
import sys

import numpy as np

from .cuda import kernels   # NumPy only: the launchers import CuPy on their first launch

_cupy = None
_cupy_error = None

CUDA_HINT = ("install it with `pip install \".[cuda12]\"` in the minitorch_cnn folder "
             "(`\".[cuda13]\"` for CUDA 13), or `pip install cupy-cuda12x` directly")


def _import_cupy():
    """Return the cupy module or None; remember why it failed."""
    global _cupy, _cupy_error
    if _cupy is None and _cupy_error is None:
        try:
            import cupy
            _cupy = cupy
        except Exception as exc:  # ImportError, or a broken CUDA install
            _cupy_error = exc
    return _cupy


def cuda_is_available():
    """True when CuPy imports and sees at least one GPU."""
    cupy = _import_cupy()
    if cupy is None:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def require_cuda():
    """Return cupy, or raise one sentence saying what is missing."""
    cupy = _import_cupy()
    if cupy is None:
        raise RuntimeError(f"device 'cuda' needs CuPy, which could not be imported "
                           f"({_cupy_error}); {CUDA_HINT}")
    if not cuda_is_available():
        raise RuntimeError("device 'cuda' was asked for, but CuPy finds no NVIDIA GPU "
                           "on this machine; use device='cpu'")
    return cupy


def normalize_device(device):
    """'cpu' | 'cuda' | 'cuda:0' | None -> 'cpu' or 'cuda'."""
    if device is None:
        return "cpu"
    name = str(getattr(device, "type", device)).lower()
    if name == "cpu":
        return "cpu"
    if name == "cuda" or name.startswith("cuda:"):
        return "cuda"
    raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")


def get_array_module(array):
    """numpy for NumPy arrays and scalars, cupy for CuPy arrays."""
    if isinstance(array, np.ndarray):
        return np
    if _cupy is None and type(array).__module__.startswith("cupy"):
        _import_cupy()   # a CuPy array made before the engine itself needed CuPy
    if _cupy is None:
        return np
    return _cupy.get_array_module(array)


def device_of(array):
    return "cpu" if get_array_module(array) is np else "cuda"


def to_device(array, device):
    """Move (or keep) an array on `device`; copies only when it must move."""
    device = normalize_device(device)
    if device == "cpu":
        if isinstance(array, np.ndarray):
            return array
        if _cupy is not None and isinstance(array, _cupy.ndarray):
            return _cupy.asnumpy(array)
        return np.asarray(array)
    cupy = require_cuda()
    return cupy.asarray(array)


def to_numpy(array):
    return to_device(array, "cpu")


def scatter_add(target, index, values):
    """target[index] += values, adding repeated indices (not in any hot path)."""
    if get_array_module(target) is np:
        np.add.at(target, index, values)
    else:
        import cupyx
        cupyx.scatter_add(target, index, values)


def cuda_twin(fn):
    """Decorator: `fn` for NumPy arrays; for CuPy arrays, the launch wrapper of the same
    name in minitorch_cnn/cuda/kernels.py (its CUDA source in kernels/*.cu)."""
    @functools.wraps(fn)
    def dispatch(array, *args, **kwargs):
        if get_array_module(array) is np:
            return fn(array, *args, **kwargs)
        return getattr(kernels, fn.__name__)(array, *args, **kwargs)
    return dispatch


def _keep_freed_memory():
    """Ask glibc to keep freed blocks for reuse instead of returning them to the OS.

    Every training step allocates and frees the same large temporaries (im2col
    columns, gradients).  By default glibc serves blocks above a moving threshold
    with mmap and hands them back on free, so each step page-faults its
    workspaces in again; a conv layer's forward + backward then ran up to 1.7×
    slower on the 2-core machine we measure on.  Set MINITORCH_CNN_MALLOC=default
    to leave the C library's settings alone.
    """
    if not sys.platform.startswith("linux") or os.environ.get("MINITORCH_CNN_MALLOC") == "default":
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:       # not glibc (e.g. musl): nothing to tune
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_mmap_threshold, 32 * 2**20)     # glibc's maximum: blocks up to 32 MiB from the heap
    libc.mallopt(m_trim_threshold, 256 * 2**20)    # return memory to the OS only above 256 MiB free


_keep_freed_memory()
