"""Weight initialisation, with PyTorch's formulas (so default inits have the same spread).

Each function fills a tensor in place from the engine's seeded generator and returns it.
"""
import math
import warnings

import numpy as np

from .. import backend
from ..random import get_rng


def calculate_gain(nonlinearity, param=None):
    """The std gain that keeps activations' variance through `nonlinearity`."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "sigmoid", "identity"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def fan_in_and_fan_out(tensor):
    """Linear (out, in): (in, out).  Conv (out, in/groups, kh, kw): (in/groups·kh·kw, out·kh·kw)."""
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dims, got shape {tensor.shape}")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _refuse_generator(op, generator):
    if generator is not None:
        raise RuntimeError(f"{op}: generator= is not supported by minitorch_cnn (only generator=None: "
                           f"seed the engine's generator with manual_seed)")


def _fill(tensor, sample):
    values = np.asarray(sample(get_rng(), tensor.shape))
    tensor.array[...] = backend.to_device(values.astype(tensor.dtype), tensor.device)
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    _refuse_generator("uniform_", generator)
    return _fill(tensor, lambda rng, shape: rng.uniform(a, b, shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    _refuse_generator("normal_", generator)
    return _fill(tensor, lambda rng, shape: rng.normal(mean, std, shape))


def zeros_(tensor):
    tensor.array[...] = 0
    return tensor


def ones_(tensor):
    tensor.array[...] = 1
    return tensor


def constant_(tensor, val):
    tensor.array[...] = val
    return tensor


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(−b, b), b = gain·√(6 / (fan_in + fan_out))."""
    _refuse_generator("xavier_uniform_", generator)
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, σ²), σ = gain·√(2 / (fan_in + fan_out))."""
    _refuse_generator("xavier_normal_", generator)
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = fan_in_and_fan_out(tensor)[0 if mode == "fan_in" else 1]
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def _zero_element(tensor):
    """True (with torch's warning) for a tensor with no elements: there is nothing to fill,
    and its fan may be 0."""
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", UserWarning, stacklevel=3)
        return True
    return False


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(−b, b), b = gain·√(3 / fan).  With a = √5 (the layers' default) b = 1/√fan_in."""
    _refuse_generator("kaiming_uniform_", generator)
    if _zero_element(tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, σ²), σ = gain / √fan."""
    _refuse_generator("kaiming_normal_", generator)
    if _zero_element(tensor):
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))
