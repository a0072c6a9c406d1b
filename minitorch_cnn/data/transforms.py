"""Transforms: turn stored uint8 images into the float arrays a model eats.

The default pipeline of every image dataset here is

    ToFloat()                 uint8 (H, W) in 0..255  ->  float32 (1, H, W) in [0, 1]
    Normalize(mean, std)      x -> (x - mean) / std, per channel

with the dataset's standard statistics (MNIST: mean 0.1307, std 0.3081, measured
on its 60,000 training images).

Every transform here is *batched*: it gives the same result on one image
(C, H, W) as on a stack (N, C, H, W), so an array-backed dataset can transform its
whole split in one vectorised call instead of a Python loop per sample.  A
transform advertises that with the attribute ``batched = True``; any other
callable works too and is applied one sample at a time.
"""
import numpy as np

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
FASHION_MNIST_MEAN, FASHION_MNIST_STD = 0.2860, 0.3530


class ToFloat:
    """uint8 pixels -> float32 in [0, 1] (x * scale), adding a channel axis before (H, W).

    (H, W) -> (1, H, W) and (N, H, W) -> (N, 1, H, W); pass add_channel=False for
    images that already have one ((C, H, W) / (N, C, H, W)).
    """
    batched = True

    def __init__(self, dtype=np.float32, scale=1 / 255, add_channel=True):
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"ToFloat: dtype must be a floating type, got {self.dtype}")
        self.scale = float(scale)
        self.add_channel = bool(add_channel)

    def __call__(self, image):
        image = np.asarray(image)
        if self.add_channel:
            if image.ndim < 2:
                raise ValueError(f"ToFloat: expected an image (H, W) or a stack (N, H, W), got shape {image.shape}")
            image = np.expand_dims(image, -3)
        out = image.astype(self.dtype)          # always a fresh array: the caller's data is never touched
        out *= self.dtype.type(self.scale)
        return out

    def __repr__(self):
        return f"ToFloat(dtype={self.dtype.name}, scale={self.scale:.6g}, add_channel={self.add_channel})"


class Normalize:
    """x -> (x - mean) / std per channel on (C, H, W) or (N, C, H, W); scalars apply to every channel.

    Computes in the input's own float dtype (float32 stays float32).
    """
    batched = True

    def __init__(self, mean, std):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.std.ndim != 1 or self.mean.shape != self.std.shape:
            raise ValueError(f"Normalize: mean and std must be scalars or sequences of one length, "
                             f"got mean {self.mean.tolist()} and std {self.std.tolist()}")
        if not np.all(self.std > 0):
            raise ValueError(f"Normalize: std must be positive, got {self.std.tolist()}")

    def __call__(self, x):
        x = np.asarray(x)
        if x.dtype.kind != "f":
            raise TypeError(f"Normalize: expected a floating array (apply ToFloat first), got {x.dtype}")
        channels = self.mean.size
        if x.ndim < 3 or (channels > 1 and x.shape[-3] != channels):
            raise ValueError(f"Normalize({channels} channel{'s' if channels > 1 else ''}): expected "
                             f"(C, H, W) or (N, C, H, W) with C = {channels}, got {x.shape}")
        mean = self.mean.astype(x.dtype).reshape(-1, 1, 1)
        inv_std = (1.0 / self.std).astype(x.dtype).reshape(-1, 1, 1)
        out = x - mean
        out *= inv_std
        return out

    def __repr__(self):
        fmt = lambda v: f"{v[0]:.4g}" if v.size == 1 else "(" + ", ".join(f"{a:.4g}" for a in v) + ")"
        return f"Normalize(mean={fmt(self.mean)}, std={fmt(self.std)})"


class Compose:
    """Apply transforms in order; batched when every one of them is."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: {t!r} is not callable")

    @property
    def batched(self):
        return all(getattr(t, "batched", False) for t in self.transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        return "Compose([" + ", ".join(repr(t) for t in self.transforms) + "])"


def default_transform(mean, std, normalize=True, add_channel=True):
    """The standard pipeline: ToFloat, then Normalize with the dataset's statistics.

    normalize: True  -> Normalize(mean, std) with the statistics given
               False -> only scale to [0, 1]
               (m, s) -> Normalize(m, s) with these instead
    """
    to_float = ToFloat(add_channel=add_channel)
    if normalize is False or normalize is None:
        return to_float
    if normalize is True:
        return Compose([to_float, Normalize(mean, std)])
    try:
        m, s = normalize
    except (TypeError, ValueError):
        raise ValueError(f"normalize must be True, False or a (mean, std) pair, got {normalize!r}") from None
    return Compose([to_float, Normalize(m, s)])
