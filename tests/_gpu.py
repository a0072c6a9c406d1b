"""Whether the GPU tests can run here; where they cannot, skip them or, on a GPU job, fail.

A GPU-only test file starts with

    GPU, WHY_NOT = gpu_or_skip_reason()
    pytestmark = pytest.mark.skipif(not GPU, reason=f"CUDA unavailable: {WHY_NOT}")

Where device 'cuda' cannot be used, its tests are skipped with the real reason
(backend.cuda_unavailable_reason(): CuPy's import error, the driver and runtime
versions, the missing library).  A job that exists to run them on a GPU sets
MINITORCH_CNN_REQUIRE_CUDA=1: then the file's collection fails with that reason
instead, so pytest exits non-zero rather than green with everything skipped.
"""
import os

import pytest

from minitorch_cnn import backend

REQUIRE_CUDA = "MINITORCH_CNN_REQUIRE_CUDA"


def cuda_required():
    """True when the environment says the GPU tests must run (MINITORCH_CNN_REQUIRE_CUDA=1)."""
    return os.environ.get(REQUIRE_CUDA, "").strip() not in ("", "0")


def gpu_or_skip_reason():
    """(True, "") where device 'cuda' works; (False, why) where it does not, unless
    MINITORCH_CNN_REQUIRE_CUDA=1, where the collection of the calling file fails with why."""
    reason = backend.cuda_unavailable_reason()
    if reason is None:
        return True, ""
    if cuda_required():
        pytest.fail(f"{REQUIRE_CUDA}=1, but device 'cuda' cannot be used: {reason}", pytrace=False)
    return False, reason
