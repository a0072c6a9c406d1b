"""Batch normalisation over (N, C, *), exactly as PyTorch defines it: the public function
F.batch_norm.  It checks its arguments (shapes, dtypes, devices, modes) and runs core/norm.py's
BatchNorm, or its fast replacement in fast/norm.py (minitorch_cnn.backends.fast).  The
definition: minitorch_cnn/reference.py's batch_norm, batch_norm_backward and
update_running_stats; tests/test_reference.py holds the op equal to them.

Training normalises with the batch's biased variance and updates the running
variance with the unbiased one; evaluation uses the running statistics.
"""
import numbers

import numpy as np

from .. import backend
from ..backends.fast import choose
from ..core import norm as core_norm
from ..core.tensor import Tensor
from ..fast import norm as _fast_norm  # noqa: F401  (registers the fast BatchNorm)
from .checks import expect_tensor


def mismatched_parameter(x, params):
    """torch's rule for the norms: every parameter and statistic has the input's dtype, or, for a
    float16 input, all of them are float32.  -> None, or the (name, tensor) of the first that
    breaks it.  params: (name, tensor or None) pairs."""
    present = [(name, t) for name, t in params if t is not None]
    if all(t.dtype == x.dtype for _, t in present):
        return None
    if x.dtype == np.float16 and all(t.dtype == np.float32 for _, t in present):
        return None
    return next((name, t) for name, t in present if t.dtype != x.dtype)


def _check_dtypes(x, params):
    if x.dtype.kind != "f":
        raise TypeError(f"batch_norm: not implemented for dtype {x.dtype}")
    mismatch = mismatched_parameter(x, params)
    if mismatch is None:
        return
    name, t = mismatch
    raise TypeError(f"batch_norm: expected {name} of the input's dtype {x.dtype} (or all parameters "
                    f"float32 for a float16 input), got {t.dtype}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,  # noqa: A002
               momentum=0.1, eps=1e-5):
    """F.batch_norm: x (N, C, *) -> same shape, x̂ · w + b; running_mean/var (C,) are
    updated in place when training (or None: the batch statistics alone are used).
    Training: dw = Σ g·x̂,  db = Σ g,  dx = w / √(σ² + eps) · (g − db / n − x̂ · dw / n)."""
    x = expect_tensor(input, "batch_norm", "input")
    for name, t in (("weight", weight), ("bias", bias)):
        expect_tensor(t, "batch_norm", name, optional=True)
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and not isinstance(t, Tensor) and not hasattr(t, "shape"):
            raise TypeError(f"batch_norm: expected {name} to be a Tensor, got {type(t).__name__}")
    for name, value in (("momentum", momentum), ("eps", eps)):
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise TypeError(f"batch_norm: {name} must be a float, got {type(value).__name__} {value!r}")
    if x.ndim == 0:
        raise ValueError("batch_norm: expected an input (N, C, *), got a 0-d tensor")
    if training and x.shape[0] * int(np.prod(x.shape[2:])) == 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                         f"got input of shape {x.shape}")
    if training and eps <= 0:
        raise ValueError(f"batch_norm: eps must be positive when training, got {eps}")
    if x.numel() == 0:
        # torch returns an empty input before it checks shapes, dtypes or modes (but it reads
        # weight[0] and bias[0], so parameters with no element fail there).
        for name, t in (("weight", weight), ("bias", bias)):
            if t is not None and t.numel() == 0:
                raise ValueError(f"batch_norm: {name} has no elements (an input with no channels)")
        return choose(core_norm.BatchNorm, x, weight, bias).apply(x, weight, bias, running_mean=None, running_var=None,
                                                 training=bool(training), momentum=float(momentum),
                                                 eps=float(eps))
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input (N, C, *) of at least 2 dimensions, got shape {x.shape}")
    c = x.shape[1]
    params = (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var))
    for name, t in params:
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(f"batch_norm: expected {name} of shape ({c},) for input {x.shape}, got {tuple(t.shape)}")
    # The running statistics go in as raw arrays (updated in place), which apply() does
    # not check for their device; a NumPy/CuPy array is accepted as well as a Tensor.
    running = [t.array if isinstance(t, Tensor) else t for t in (running_mean, running_var)]
    for name, array in zip(("running_mean", "running_var"), running):
        if array is not None and backend.device_of(array) != x.device:
            raise RuntimeError(f"batch_norm: expected all tensors to be on the same device, but {name} "
                               f"is on {backend.device_of(array)} and the input on {x.device}")
    _check_dtypes(x, params)
    if training and (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: running_mean and running_var must both be None or neither")
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm: evaluation mode needs running_mean and running_var")
    return choose(core_norm.BatchNorm, x, weight, bias).apply(x, weight, bias, running_mean=running[0], running_var=running[1],
                                             training=bool(training), momentum=float(momentum), eps=float(eps))
