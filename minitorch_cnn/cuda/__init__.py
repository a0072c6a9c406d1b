"""CUDA side of the engine: the kernels in kernels/*.cu and their launchers.

    loader.py   finds the .cu sources, compiles them with cupy.RawModule, caches them
    kernels.py  one Python wrapper per kernel, taking and returning CuPy arrays

Importing this package needs NumPy only; CuPy is imported when a kernel is
first compiled or launched.
"""
from .loader import get_kernel, kernel_sources


def is_available():
    """True when CuPy imports and sees at least one GPU."""
    from ..backend import cuda_is_available
    return cuda_is_available()


__all__ = ["is_available", "kernel_sources", "get_kernel"]
