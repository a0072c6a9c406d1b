"""torchvision datasets as array-backed datasets (optional: needs `pip install torchvision`).

``TorchvisionDataset("CIFAR10", root)`` asks ``torchvision.datasets.CIFAR10`` for the
split (downloading through torchvision if allowed) and keeps only its ``.data`` and
``.targets`` as NumPy arrays, transformed by this package's transforms to float32
(C, H, W) in [0, 1], normalised.  Works for datasets with ``data``/``targets`` that
take ``train=`` (MNIST, FashionMNIST, KMNIST, QMNIST, CIFAR10, CIFAR100).
"""
import numpy as np

from .dataset import ImageDataset

# published per-channel statistics of the training splits
KNOWN_STATS = {
    "MNIST": (0.1307, 0.3081), "QMNIST": (0.1307, 0.3081),
    "FashionMNIST": (0.2860, 0.3530), "KMNIST": (0.1918, 0.3483),
    "CIFAR10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "CIFAR100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
}


class TorchvisionDataset(ImageDataset):
    """A torchvision dataset's split, held as arrays; unknown datasets normalise with the split's own statistics."""

    def __init__(self, name, root, train=True, download=True, transform=None, target_transform=None,
                 normalize=True):
        try:
            import torchvision
        except ImportError as exc:
            raise ImportError(f"TorchvisionDataset({name!r}) needs torchvision, which is not installed ({exc}); "
                              f"`pip install minitorch_cnn[torchvision]`, or use 'mnist' / 'fashion-mnist', "
                              f"which read the same files without it") from exc
        cls = getattr(torchvision.datasets, name, None)
        if cls is None:
            raise ValueError(f"TorchvisionDataset: torchvision.datasets has no {name!r}")
        try:
            source = cls(root=str(root), train=train, download=download)
        except TypeError as exc:
            raise ValueError(f"TorchvisionDataset: torchvision.datasets.{name} does not take train= "
                             f"({exc}); only train/test datasets are supported") from exc
        if not (hasattr(source, "data") and hasattr(source, "targets")):
            raise ValueError(f"TorchvisionDataset: torchvision.datasets.{name} has no .data/.targets arrays")
        images, labels = (np.asarray(a.numpy() if hasattr(a, "numpy") else a) for a in (source.data, source.targets))
        if images.ndim == 4 and images.shape[-1] in (1, 3) and images.shape[1] not in (1, 3):
            images = np.ascontiguousarray(images.transpose(0, 3, 1, 2))     # NHWC -> NCHW
        self.name, self.train, self.root = name, bool(train), root
        if name in KNOWN_STATS:
            mean, std = KNOWN_STATS[name]
        else:
            scaled = images / 255.0
            axes = (0, 1, 2) if images.ndim == 3 else (0, 2, 3)
            mean, std = tuple(np.atleast_1d(scaled.mean(axes))), tuple(np.atleast_1d(scaled.std(axes)))
        super().__init__(images, labels.astype(np.int64), transform=transform, target_transform=target_transform,
                         normalize=normalize, mean=mean, std=std, classes=getattr(source, "classes", None))

    def __repr__(self):
        return f"TorchvisionDataset({self.name!r}, {'train' if self.train else 'test'}, {len(self):,} samples)"
