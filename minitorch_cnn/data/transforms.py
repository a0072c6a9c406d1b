"""Transforms: stored uint8 images -> the float arrays a model eats.

ToFloat, Normalize and Compose on arrays are *batched* (``batched = True``): one image
(C, H, W) and a stack (N, C, H, W) give the same result, so a dataset can transform its
whole split in one vectorised call.  Any other callable works too, one sample at a time.

torchvision.transforms' names, as torchvision defines them (what ``python -m
minitorch_cnn.as_torch`` gives a script for ``torchvision.transforms``): ToTensor and
PILToTensor (an image array (H, W) or (H, W, C), or a PIL image, -> a Tensor (C, H, W)),
Normalize on a Tensor (a Tensor back), Compose, Lambda.  These work one sample at a time;
`transform_stack` applies a chain of them to a whole split (N, H, W) at once with the same
values, when every step has a ``stack`` method.
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
    """x -> (x - mean) / std per channel of (C, H, W) or (N, C, H, W), in x's float dtype.

    On an array: mean and std broadcast over the channels, (x - mean) * (1 / std).  On a
    Tensor (torchvision's Normalize): a Tensor (x - mean) / std, in place with inplace=True.
    """
    batched = True

    def __init__(self, mean, std, inplace=False):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        self.inplace = bool(inplace)
        if self.mean.ndim != 1 or self.mean.shape != self.std.shape:
            raise ValueError(f"Normalize: mean and std must be scalars or sequences of one length, "
                             f"got mean {self.mean.tolist()} and std {self.std.tolist()}")
        if not np.all(self.std > 0):
            raise ValueError(f"Normalize: std must be positive, got {self.std.tolist()}")

    def _channel_stats(self, dtype, shape):
        """mean and std as (C, 1, 1) arrays of dtype, checked against a (..., C, H, W) shape."""
        c = self.mean.size
        if len(shape) < 3 or (c > 1 and shape[-3] != c):
            raise ValueError(f"Normalize: expected a tensor image (..., C, H, W) with C = {c}, got shape {tuple(shape)}")
        return self.mean.astype(dtype).reshape(-1, 1, 1), self.std.astype(dtype).reshape(-1, 1, 1)

    def stack(self, images):
        """The Tensor path's values on a stack (N, C, H, W) of float arrays: (x - mean) / std."""
        mean, std = self._channel_stats(images.dtype, images.shape)
        out = images - mean
        out /= std
        return out

    def __call__(self, x):
        from ..tensor import Tensor
        if isinstance(x, Tensor):
            if np.dtype(x.dtype).kind != "f":
                raise TypeError(f"Normalize: input tensor should be a float tensor, got {np.dtype(x.dtype).name}")
            mean, std = (backend_to(a, x) for a in self._channel_stats(np.dtype(x.dtype), x.shape))
            return x.sub_(mean).div_(std) if self.inplace else (x - mean) / std
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

    def stack(self, images):
        """Each transform's `stack` in turn (see transform_stack)."""
        for t in self.transforms:
            images = t.stack(images)
        return images

    def __repr__(self):
        return "Compose([" + ", ".join(map(repr, self.transforms)) + "])"


def backend_to(array, like):
    """A NumPy array as a Tensor on `like`'s device (the constants of a Tensor transform)."""
    from .. import backend
    from ..tensor import Tensor
    return Tensor(backend.to_device(array, backend.device_of(like.array)))


def transform_stack(transform, images):
    """transform applied to every image of the stack `images` (N, H, W) or (N, H, W, C), as one
    array (N, ...), or None when some step of the chain has no ``stack`` method (then the
    images go one by one).  The values are those of ``transform(images[i])`` to the bit."""
    steps = transform.transforms if isinstance(transform, Compose) else [transform]
    if transform is None or not all(hasattr(t, "stack") for t in steps):
        return None
    return transform.stack(images)


def _image_array(pic, who):
    """A PIL image or an ndarray (H, W) / (H, W, C) -> an ndarray (H, W, C), as torchvision reads them."""
    if type(pic).__module__.startswith("PIL.") or hasattr(pic, "getbands"):
        mode = getattr(pic, "mode", None)
        array = np.array(pic, copy=True)
        if mode == "1":
            array = array.astype(np.uint8) * 255
    elif isinstance(pic, np.ndarray):
        array = pic
    else:
        raise TypeError(f"{who}: pic should be PIL Image or ndarray, got {type(pic)}")
    if array.ndim not in (2, 3):
        raise ValueError(f"{who}: pic should be 2 or 3 dimensional, got {array.ndim} dimensions")
    return array[:, :, None] if array.ndim == 2 else array


class ToTensor:
    """torchvision's ToTensor: an image (H, W) or (H, W, C), ndarray or PIL image, -> a Tensor
    (C, H, W); uint8 values become float32 x / 255, other dtypes keep their values."""

    def __call__(self, pic):
        from ..tensor import Tensor
        array = _image_array(pic, "ToTensor").transpose(2, 0, 1)
        return Tensor(self._scaled(np.ascontiguousarray(array)))

    @staticmethod
    def _scaled(array):
        return array.astype(np.float32) / np.float32(255) if array.dtype == np.uint8 else array

    def stack(self, images):
        """(N, H, W) or (N, H, W, C) image arrays -> (N, C, H, W) arrays, the values of __call__."""
        images = np.asarray(images)
        images = images[..., None] if images.ndim == 3 else images
        return self._scaled(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))

    def __repr__(self):
        return "ToTensor()"


class PILToTensor:
    """torchvision's PILToTensor: an image (H, W) or (H, W, C) -> a Tensor (C, H, W) of its own dtype."""

    def __call__(self, pic):
        from ..tensor import Tensor
        return Tensor(np.ascontiguousarray(_image_array(pic, "PILToTensor").transpose(2, 0, 1)))

    def stack(self, images):
        images = np.asarray(images)
        images = images[..., None] if images.ndim == 3 else images
        return np.ascontiguousarray(images.transpose(0, 3, 1, 2))

    def __repr__(self):
        return "PILToTensor()"


class Lambda:
    """torchvision's Lambda: any function of one sample, as a transform."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, x):
        return self.lambd(x)

    def __repr__(self):
        return "Lambda()"


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
