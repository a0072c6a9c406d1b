"""torchvision datasets as minitorch_cnn datasets (optional: needs `pip install torchvision`).

``TorchvisionDataset("MNIST", root)`` asks ``torchvision.datasets.MNIST`` for the
split (downloading through torchvision if allowed), then keeps only its raw
``.data`` and ``.targets`` as NumPy arrays, so it is array-backed and uses this
package's transforms: images come out float32 (C, H, W), scaled to [0, 1] and
normalised.  Works for the datasets that expose ``data``/``targets`` and take
``train=`` (MNIST, FashionMNIST, KMNIST, QMNIST, CIFAR10, CIFAR100).
"""
import numpy as np

from .dataset import ImageDataset

# published per-channel statistics of the training splits
KNOWN_STATS = {
    "MNIST": (0.1307, 0.3081),
    "FashionMNIST": (0.2860, 0.3530),
    "KMNIST": (0.1918, 0.3483),
    "QMNIST": (0.1307, 0.3081),
    "CIFAR10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "CIFAR100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
}


def import_torchvision(what="this"):
    try:
        import torchvision
    except ImportError as exc:
        raise ImportError(f"{what} needs torchvision, which is not installed ({exc}); "
                          f"`pip install minitorch_cnn[torchvision]`, or use 'mnist' / 'fashion-mnist', "
                          f"which read the same files without it") from exc
    return torchvision


def _numpy(a):
    return a.numpy() if hasattr(a, "numpy") else np.asarray(a)


class TorchvisionDataset(ImageDataset):
    """A torchvision dataset's split, held as arrays. Unknown datasets normalise with the split's own statistics."""

    def __init__(self, name, root, train=True, download=True, transform=None, target_transform=None,
                 normalize=True):
        tv = import_torchvision(f"TorchvisionDataset({name!r})")
        cls = getattr(tv.datasets, name, None)
        if cls is None:
            raise ValueError(f"TorchvisionDataset: torchvision.datasets has no {name!r}")
        try:
            source = cls(root=str(root), train=train, download=download)
        except TypeError as exc:
            raise ValueError(f"TorchvisionDataset: torchvision.datasets.{name} does not take train= "
                             f"({exc}); only train/test datasets are supported") from exc
        if not (hasattr(source, "data") and hasattr(source, "targets")):
            raise ValueError(f"TorchvisionDataset: torchvision.datasets.{name} has no .data/.targets arrays")
        images, labels = _numpy(source.data), _numpy(source.targets).astype(np.int64)
        if images.ndim == 4 and images.shape[-1] in (1, 3) and images.shape[1] not in (1, 3):
            images = np.ascontiguousarray(images.transpose(0, 3, 1, 2))     # NHWC -> NCHW
        self.name, self.train, self.root = name, bool(train), root
        if name in KNOWN_STATS:
            mean, std = KNOWN_STATS[name]
        else:
            axes = (0, 1, 2) if images.ndim == 3 else (0, 2, 3)
            scaled = images.astype(np.float64) / 255
            mean, std = tuple(np.atleast_1d(scaled.mean(axes))), tuple(np.atleast_1d(scaled.std(axes)))
        classes = getattr(source, "classes", None)
        super().__init__(images, labels, transform=transform, target_transform=target_transform,
                         normalize=normalize, mean=mean, std=std, classes=classes)

    def __repr__(self):
        return f"TorchvisionDataset({self.name!r}, {'train' if self.train else 'test'}, {len(self):,} samples)"
