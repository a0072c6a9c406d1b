"""Numerical gradient checking: central differences in float64 against backward().

For a random cotangent v, the analytical vector-Jacobian product vᵀJ that
backward() computes is compared, element by element, with the central
difference (f(x + ε) − f(x − ε)) / 2ε of the scalar  s(x) = Σ v · fn(x).
A wrong backward almost surely disagrees for a random v.
"""
import numpy as np

from . import backend
from .autograd import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """The analytical and numerical gradients disagree."""


def _outputs(fn, inputs):
    out = fn(*inputs)
    return out if isinstance(out, (tuple, list)) else (out,)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, raise_exception=True):
    """Check fn's backward for every input that requires grad: True, or a GradcheckError
    (False with raise_exception=False, as torch.autograd.gradcheck).

    The inputs are copied to C-contiguous float64 arrays first, so the perturbation below
    reaches the values fn reads whatever the input's strides (a transposed view included).
    A NaN or inf in either gradient fails: no comparison can vouch for it.  Error message:
    which input, the worst element's index, the analytical and numerical values.
    """
    try:
        return _gradcheck(fn, inputs, eps, atol, rtol, seed)
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _gradcheck(fn, inputs, eps, atol, rtol, seed):
    inputs = [Tensor(backend.get_array_module(x.array).array(
                         x.array, dtype=np.float64 if x.dtype.kind == "f" else None, order="C", copy=True),
                     requires_grad=x.requires_grad) if isinstance(x, Tensor) else x
              for x in inputs]
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    rng = np.random.default_rng(seed)
    outs = _outputs(fn, inputs)
    cotangents = [rng.standard_normal(o.shape) for o in outs]

    def scalar(*xs):
        with no_grad():
            return sum(float(backend.to_numpy((o.array * backend.to_device(v, o.device))).sum())
                       for o, v in zip(_outputs(fn, xs), cotangents))

    # analytical: backprop Σ v·out
    total = None
    for o, v in zip(outs, cotangents):
        if o.requires_grad:
            term = (o * Tensor(backend.to_device(v, o.device))).sum()
            total = term if total is None else total + term
    if total is None:
        raise GradcheckError("gradcheck: no output depends on the inputs through the graph")
    total.backward()

    for i in checked:
        x = inputs[i]
        analytical = np.zeros(x.shape) if x.grad is None else backend.to_numpy(x.grad.array)
        numerical = np.zeros(x.shape)
        flat = x.array.reshape(-1)    # a view: perturb in place, restore after
        for k in range(flat.size):
            original = flat[k].item()
            flat[k] = original + eps
            plus = scalar(*inputs)
            flat[k] = original - eps
            minus = scalar(*inputs)
            flat[k] = original
            numerical.reshape(-1)[k] = (plus - minus) / (2 * eps)
        for name, values in (("analytical", analytical), ("numerical", numerical)):
            if not np.isfinite(values).all():
                bad = tuple(int(k) for k in np.unravel_index(np.argmax(~np.isfinite(values)), x.shape))
                raise GradcheckError(
                    f"gradcheck: the {name} gradient of input {i} (shape {x.shape}) is not finite: "
                    f"{values[bad]} at index {bad} ({(~np.isfinite(values)).sum()} of {values.size} "
                    f"elements are NaN or inf; analytical {analytical[bad]:.10g}, numerical "
                    f"{numerical[bad]:.10g})")
        error = np.abs(analytical - numerical) - (atol + rtol * np.abs(numerical))
        if (error > 0).any():
            # plain ints: numpy 2 would print the index as (np.int64(0), np.int64(2))
            worst = tuple(int(k) for k in np.unravel_index(np.argmax(error), x.shape))
            raise GradcheckError(
                f"gradcheck: gradient of input {i} (shape {x.shape}) is wrong at index {worst}: "
                f"analytical {analytical[worst]:.10g}, numerical {numerical[worst]:.10g} "
                f"(atol={atol}, rtol={rtol}; {(error > 0).sum()} of {error.size} elements differ)")
    return True
