"""The one process-wide setting the engine may make, and only where training and the
benchmarks start (importing minitorch_cnn changes nothing in the process).

Every training step allocates and frees the same large temporaries (im2col columns,
gradients).  By default glibc serves blocks above a moving threshold with mmap and hands
them back on free, so each step page-faults its workspaces in again.  Keeping freed blocks
in the heap is worth 1.27-1.45x per DigitCNN step and 1.08-1.17x per DeepCNN step (median
of 30 steps, 3 alternating runs, 2-core AMD EPYC; docs/performance.md).
"""
import ctypes
import os
import sys


def keep_freed_memory():
    """Ask glibc to keep freed blocks for reuse; returns True when it was asked.

    Nothing happens off Linux, without glibc, or with MINITORCH_CNN_MALLOC=default in the
    environment (the opt-out).
    """
    if not sys.platform.startswith("linux") or os.environ.get("MINITORCH_CNN_MALLOC") == "default":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:       # not glibc (e.g. musl): nothing to tune
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_mmap_threshold, 32 * 2**20)     # glibc's maximum: blocks up to 32 MiB from the heap
    libc.mallopt(m_trim_threshold, 256 * 2**20)    # return memory to the OS only above 256 MiB free
    return True
