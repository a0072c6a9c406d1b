"""Gradient clipping, as torch.nn.utils: clip_grad_norm_ and clip_grad_value_.

Both work on the `.grad` of the given parameters in place (after backward, before the
optimizer step) and skip parameters whose `.grad` is None.
"""
import math
import numbers

import numpy as np

from .. import backend
from ..tensor import Tensor


def _parameters(parameters, op):
    if isinstance(parameters, Tensor):
        return [parameters]
    if not hasattr(parameters, "__iter__"):
        raise TypeError(f"{op}: expected a Tensor or an iterable of Tensors, got {type(parameters).__name__}")
    parameters = list(parameters)       # a generator (model.parameters()) is read once
    for p in parameters:
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: expected a Tensor or an iterable of Tensors, got an element of "
                            f"type {type(p).__name__}")
    return parameters


def _number(value, op, name):
    if isinstance(value, str):
        try:
            return float(value)          # torch's float(norm_type) takes 'inf'
        except ValueError:
            pass
    if isinstance(value, Tensor) and value.array.size == 1:
        return float(value.item())
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__}")
    return float(value)


def _vector_norm(a, p):
    """‖a‖_p over all elements, as torch.linalg.vector_norm (inf: max |a|, 0: count of non-zeros)."""
    xp = backend.get_array_module(a)
    # float16 sums would overflow at 65504: accumulate in float32, as torch does
    work = xp.abs(a.astype(np.float32) if a.dtype == np.float16 else a)
    if p == math.inf:
        out = work.max() if work.size else work.dtype.type(0)
    elif p == -math.inf:
        out = work.min() if work.size else work.dtype.type(math.inf)
    elif p == 0:
        out = (work != 0).sum().astype(work.dtype)
    elif p == 1:
        out = work.sum()
    elif p == 2:
        out = xp.sqrt((work * work).sum())
    else:
        out = (work ** p).sum() ** (1 / p)
    return xp.asarray(out, dtype=a.dtype)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale the gradients so that their total norm (the p-norm of all of them as one vector) is at
    most max_norm: each .grad is multiplied by min(1, max_norm / (total + 1e-6)).

    parameters: a Tensor or an iterable of them (those without .grad are skipped); norm_type: p,
    float('inf') or 'inf' too.  Returns the total norm before clipping as a 0-d Tensor (tensor(0.)
    when no parameter has a gradient).  With error_if_nonfinite=True a NaN or infinite total raises
    RuntimeError and nothing is changed.  `foreach` is accepted for torch's signature and ignored."""
    op = "clip_grad_norm_"
    parameters = _parameters(parameters, op)
    max_norm, p = _number(max_norm, op, "max_norm"), _number(norm_type, op, "norm_type")
    grads = [t.grad.array for t in parameters if t.grad is not None]
    if not grads:
        return Tensor(np.asarray(0.0, dtype=np.float32))
    if abs(p) == math.inf and any(g.size == 0 for g in grads):
        raise RuntimeError(f"{op}: cannot compute the {p} norm of an empty gradient, because the "
                           f"operation does not have an identity (as torch)")
    xp = backend.get_array_module(grads[0])
    norms = [backend.to_device(_vector_norm(g, p), backend.device_of(grads[0])) for g in grads]
    dtype = np.result_type(*[n.dtype for n in norms])      # torch.stack promotes, so do we
    total = _vector_norm(xp.stack([n.astype(dtype) for n in norms]), p)
    # a host read (a GPU synchronisation) only when asked to raise: deciding to raise needs the
    # value on the host, as in torch; the default scales on the device and reads nothing
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"{op}: the total norm of order {p} for gradients from `parameters` is "
                           f"non-finite, so it cannot be clipped. To disable this error and scale the "
                           f"gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    coefficient = xp.minimum(dtype.type(max_norm) / (total + dtype.type(1e-6)), dtype.type(1.0))
    for g in grads:
        # always multiplied, as torch (a coefficient of 1 changes nothing; a NaN one spreads)
        with np.errstate(invalid="ignore"):
            g *= backend.to_device(coefficient, backend.device_of(g)).astype(g.dtype)
    return Tensor(total)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element to [−clip_value, clip_value] in place (NaN stays NaN);
    parameters: a Tensor or an iterable of them (those without .grad are skipped).  Returns None.
    `foreach` is accepted for torch's signature and ignored."""
    op = "clip_grad_value_"
    parameters = _parameters(parameters, op)
    clip_value = _number(clip_value, op, "clip_value")
    for t in parameters:
        if t.grad is not None:
            g = t.grad.array
            xp = backend.get_array_module(g)
            xp.clip(g, -clip_value, clip_value, out=g)


__all__ = ["clip_grad_norm_", "clip_grad_value_"]
