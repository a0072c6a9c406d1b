"""The normalisation layers over other axes: LayerNorm, GroupNorm, InstanceNorm1d, InstanceNorm2d.

Torch's constructors, parameter and buffer names (so state_dicts load both ways), initial values
(weight 1, bias 0, running_mean 0, running_var 1) and extra_repr.  Each calls its functional op
(ops/norm_axes.py) and puts its name in front of the op's errors.
"""
import numbers
import warnings

import numpy as np

from . import functional as F
from .layers import _count, _named_error, _place, norm_affine
from .module import Module
from ..ops.checks import expect_tensor


class LayerNorm(Module):
    """Normalises each sample over its last len(normalized_shape) axes; weight and bias of
    normalized_shape when elementwise_affine (bias only with bias=True)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        if not isinstance(normalized_shape, (tuple, list)):
            raise TypeError(f"LayerNorm: normalized_shape must be an int or a tuple of ints, got "
                            f"{type(normalized_shape).__name__} {normalized_shape!r}")
        self.normalized_shape = tuple(_count("LayerNorm", "normalized_shape", d) for d in normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        norm_affine(self, self.normalized_shape, elementwise_affine, bias)
        _place(self, device, dtype)

    def reset_parameters(self):
        if self.weight is not None:
            self.weight.array[...] = 1
        if self.bias is not None:
            self.bias.array[...] = 0

    def forward(self, input):  # noqa: A002
        x = expect_tensor(input, "LayerNorm")
        try:
            return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise _named_error(f"LayerNorm({self.normalized_shape})", exc) from exc

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalises each sample's num_groups groups of num_channels/num_groups channels; weight and
    bias (num_channels,) when affine (bias only with bias=True)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        num_groups = _count("GroupNorm", "num_groups", num_groups)
        num_channels = _count("GroupNorm", "num_channels", num_channels)
        if num_groups == 0 or num_channels % num_groups:   # torch: ZeroDivisionError for 0 groups
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        norm_affine(self, (num_channels,), affine, bias)
        _place(self, device, dtype)

    reset_parameters = LayerNorm.reset_parameters

    def forward(self, input):  # noqa: A002
        x = expect_tensor(input, "GroupNorm")
        try:
            return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise _named_error(f"GroupNorm({self.num_groups}, {self.num_channels})", exc) from exc

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(Module):
    _no_batch_dim = None     # the input's dimension count without the batch axis

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = _count(type(self).__name__, "num_features", num_features)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        norm_affine(self, (self.num_features,), affine, bias)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=np.float32))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=np.float32))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        _place(self, device, dtype)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.array[...], self.running_var.array[...] = 0, 1
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        LayerNorm.reset_parameters(self)

    def forward(self, input):  # noqa: A002
        name = f"{type(self).__name__}({self.num_features})"
        x = expect_tensor(input, name)
        dims = (self._no_batch_dim, self._no_batch_dim + 1)
        if x.ndim not in dims:
            raise ValueError(f"{name}: expected {dims[0]}D or {dims[1]}D input, got {x.ndim}D input {tuple(x.shape)}")
        feature_dim = x.ndim - self._no_batch_dim
        if x.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"{name}: expected input's size at dim={feature_dim} to match num_features "
                                 f"({self.num_features}), got {x.shape[feature_dim]} in input {tuple(x.shape)}")
            warnings.warn(f"{name}: input's size at dim={feature_dim} does not match num_features. You can "
                          f"silence this warning by not passing in num_features, which is not used because "
                          f"affine=False", stacklevel=2)
        batched = x if x.ndim == dims[1] else x.unsqueeze(0)
        try:   # torch counts no batches here (num_batches_tracked stays 0): momentum None is 0
            out = F.instance_norm(batched, self.running_mean, self.running_var, self.weight, self.bias,
                                  self.training or not self.track_running_stats,
                                  0.0 if self.momentum is None else self.momentum, self.eps)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise _named_error(name, exc) from exc
        return out if x.ndim == dims[1] else out.squeeze(0)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Instance norm over (N, C, L) or unbatched (C, L): statistics per sample and channel."""
    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Instance norm over (N, C, H, W) or unbatched (C, H, W): statistics per sample and channel."""
    _no_batch_dim = 3
