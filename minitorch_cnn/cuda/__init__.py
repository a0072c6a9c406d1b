"""CUDA side of the engine: the kernels in kernels/*.cu and their launchers.

    loader.py   finds the .cu sources, compiles them with cupy.RawModule, caches them
    kernels.py  one Python wrapper per kernel, taking and returning CuPy arrays

Importing this package loads nothing: loader.py and kernels.py are imported when a
kernel is first asked for, and CuPy when a kernel is first compiled or launched.
"""
import importlib


def __getattr__(name):
    if name in ("get_kernel", "kernel_sources"):
        return getattr(importlib.import_module(".loader", __name__), name)
    if name in ("loader", "kernels"):
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_available():
    """True when device 'cuda' can be used: CuPy imports, sees a GPU, and NVRTC,
    cuBLAS and cuRAND work (probed once per process)."""
    from ..backend import cuda_is_available
    return cuda_is_available()


def device_count():
    """How many GPUs the engine can use: 1 (cuda:0) when CUDA is available, else 0."""
    return int(is_available())


def current_device():
    """0, the one GPU the engine uses; RuntimeError naming why when CUDA cannot be used."""
    from ..backend import require_cuda
    require_cuda()
    return 0


def unavailable_reason():
    """None when device 'cuda' can be used, else one sentence saying what failed:
    CuPy's import error, the driver and runtime versions, the missing library.
    (torch has only `torch.cuda.is_available()`; this says why it is False.)"""
    from ..backend import cuda_unavailable_reason
    return cuda_unavailable_reason()


__all__ = ["current_device", "device_count", "is_available", "unavailable_reason", "kernel_sources", "get_kernel"]
