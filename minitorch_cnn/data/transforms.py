"""Transforms: stored uint8 images -> the float arrays a model eats.

Each transform here is *batched* (``batched = True``): one image (C, H, W) and a
stack (N, C, H, W) give the same result, so a dataset can transform its whole
split in one vectorised call.  Any other callable works too, one sample at a time.
"""
import numpy as np

# per-channel statistics of the 60,000 training images
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
FASHION_MNIST_MEAN, FASHION_MNIST_STD = 0.2860, 0.3530


class ToFloat:
    """uint8 -> float32 in [0, 1] (x * scale); (H, W) -> (1, H, W) unless add_channel=False."""
    batched = True

    def __init__(self, dtype=np.float32, scale=1 / 255, add_channel=True):
        self.dtype, self.scale, self.add_channel = np.dtype(dtype), float(scale), bool(add_channel)
        if self.dtype.kind != "f":
            raise TypeError(f"ToFloat: dtype must be a floating type, got {self.dtype}")

    def __call__(self, image):
        image = np.asarray(image)
        if self.add_channel:
            if image.ndim < 2:
                raise ValueError(f"ToFloat: expected an image (H, W) or a stack (N, H, W), got shape {image.shape}")
            image = np.expand_dims(image, -3)
        out = image.astype(self.dtype)          # a fresh array: the dataset's images are never touched
        out *= self.dtype.type(self.scale)
        return out

    def __repr__(self):
        return f"ToFloat(dtype={self.dtype.name}, scale={self.scale:.6g}, add_channel={self.add_channel})"


class Normalize:
    """x -> (x - mean) / std per channel of (C, H, W) or (N, C, H, W), in x's float dtype."""
    batched = True

    def __init__(self, mean, std):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.mean.shape != self.std.shape:
            raise ValueError(f"Normalize: mean and std must be scalars or sequences of one length, "
                             f"got mean {self.mean.tolist()} and std {self.std.tolist()}")
        if not np.all(self.std > 0):
            raise ValueError(f"Normalize: std must be positive, got {self.std.tolist()}")

    def __call__(self, x):
        x = np.asarray(x)
        if x.dtype.kind != "f":
            raise TypeError(f"Normalize: expected a floating array (apply ToFloat first), got {x.dtype}")
        c = self.mean.size
        if x.ndim < 3 or (c > 1 and x.shape[-3] != c):
            raise ValueError(f"Normalize: expected (C, H, W) or (N, C, H, W) with C = {c}, got {x.shape}")
        out = x - self.mean.astype(x.dtype).reshape(-1, 1, 1)
        out *= (1.0 / self.std).astype(x.dtype).reshape(-1, 1, 1)
        return out

    def __repr__(self):
        def fmt(v):
            return f"{v[0]:.4g}" if v.size == 1 else "(" + ", ".join(f"{a:.4g}" for a in v) + ")"
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
        return "Compose([" + ", ".join(map(repr, self.transforms)) + "])"


def default_transform(mean, std, normalize=True, add_channel=True):
    """ToFloat, then Normalize: with (mean, std) if normalize is True, with the pair `normalize`
    if it is one, not at all if it is False or None."""
    to_float = ToFloat(add_channel=add_channel)
    if normalize is False or normalize is None:
        return to_float
    if normalize is not True:
        try:
            mean, std = normalize
        except (TypeError, ValueError):
            raise ValueError(f"normalize must be True, False or a (mean, std) pair, got {normalize!r}") from None
    return Compose([to_float, Normalize(mean, std)])
