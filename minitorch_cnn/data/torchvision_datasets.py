"""torchvision's datasets: through torchvision, or torchvision's MNIST and FashionMNIST without it.

``TorchvisionDataset("CIFAR10", root)`` (optional: needs `pip install torchvision`) asks
``torchvision.datasets.CIFAR10`` for the split (downloading through torchvision if allowed)
and keeps only its ``.data`` and ``.targets`` as NumPy arrays, transformed by this package's
transforms to float32 (C, H, W) in [0, 1], normalised.  Works for datasets with
``data``/``targets`` that take ``train=`` (MNIST, FashionMNIST, KMNIST, QMNIST, CIFAR10, CIFAR100).

``TorchvisionMNIST`` and ``TorchvisionFashionMNIST`` are torchvision's ``datasets.MNIST`` and
``datasets.FashionMNIST`` (what ``python -m minitorch_cnn.as_torch`` gives a script), with
torchvision's signature and attributes, read from torchvision's folders (mnist.py finds and
downloads the files).  Differences: an item's image is a uint8 ndarray (H, W), not a PIL
image (ToTensor takes either); offline, MNIST falls back to the bundled digits (see
TorchvisionMNIST); MINITORCH_CNN_AS_TORCH_LIMIT=N keeps each split's first N samples.
"""
import os
import sys
from pathlib import Path

import numpy as np

from .bundled import BundledDigits
from .dataset import Dataset, ImageDataset
from .download import DatasetNotFoundError
from .mnist import MNIST, FashionMNIST
from .transforms import transform_stack

LIMIT_VARIABLE = "MINITORCH_CNN_AS_TORCH_LIMIT"

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


_fell_back = set()      # (folder, root) of the datasets that fell back to the bundled digits here


class TorchvisionMNIST(Dataset):
    """torchvision.datasets.MNIST(root, train=True, transform=None, target_transform=None, download=False).

    Reads ``root/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]`` (mnist.py also
    looks in root/ and root/raw/).  download=True fetches missing files from torchvision's
    mirrors, checked against their MD5s, into that folder (and unpacks them, as torchvision
    does).  If the files are missing and cannot be downloaded, it uses the 5,000 MNIST digits
    bundled with the engine instead (4,000 train / 1,000 test), saying so in one line on
    stderr; later splits from the same root then do too, even with download=False (as a
    script reads its test split after downloading the training one).  Otherwise, files missing
    with download=False raise torchvision's RuntimeError.

    ``dataset[i]`` is ``(image, target)``: image a uint8 ndarray (28, 28) through `transform`,
    target an int through `target_transform`.  ``data`` is a uint8 Tensor (N, 28, 28),
    ``targets`` an int64 Tensor (N,), ``classes`` torchvision's class names.
    """
    folder = "MNIST"
    engine_class = MNIST
    bundled_fallback = True
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        from ..tensor import Tensor
        self.root = os.path.expanduser(root) if isinstance(root, (str, Path)) else root
        self.train, self.transform, self.target_transform = train, transform, target_transform
        images, labels = self._load(download)
        limit = os.environ.get(LIMIT_VARIABLE)
        if limit:
            kept = int(limit)
            if kept < len(labels):
                print(f"{self.folder} ({'train' if train else 'test'}): {LIMIT_VARIABLE}={kept}: keeping the first "
                      f"{kept:,} of {len(labels):,} samples", file=sys.stderr)
                images, labels = images[:kept], labels[:kept]
        self._images, self._labels = images, labels.astype(np.int64)
        self.data, self.targets = Tensor(self._images), Tensor(self._labels)
        self._stacked = (None, None)     # (transform, the whole split transformed)

    @property
    def raw_folder(self):
        return os.path.join(self.root, self.folder, "raw")

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    def _load(self, download):
        """(images uint8 (N, 28, 28), labels (N,)) from disk, a download, or the bundled digits."""
        key = (self.folder, os.path.abspath(self.root))
        if key not in _fell_back:
            try:
                source = self.engine_class(self.root, train=self.train, download=download, normalize=False)
                return source.data, source.targets
            except DatasetNotFoundError as exc:
                if not download:
                    raise RuntimeError("Dataset not found. You can use download=True to download it "
                                       f"({exc})") from None
                if not self.bundled_fallback:
                    raise RuntimeError(f"{self.folder}: {exc}; {self.folder} is not bundled with minitorch_cnn, "
                                       f"so there is nothing to fall back to offline") from None
                reason = "the download failed" if exc.download_errors else "nothing was downloaded"
            _fell_back.add(key)
            print(f"{self.folder}: no files in {self.raw_folder} and {reason} (offline?): using the 5,000 MNIST "
                  f"digits bundled with minitorch_cnn instead (4,000 train / 1,000 test)", file=sys.stderr)
        bundled = BundledDigits(train=self.train, normalize=False)
        return bundled.data, bundled.targets

    def __len__(self):
        return len(self._labels)

    def __getitem__(self, index):
        image, target = self._images[index], int(self._labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __getattr__(self, name):
        # arrays() (the DataLoader's batched path) exists only when the transform can run on the
        # whole split at once with the same values, and there is no target transform
        if name == "arrays" and self.target_transform is None and self._stackable():
            return self._arrays
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _stackable(self):
        steps = getattr(self.transform, "transforms", [self.transform])
        return self.transform is not None and all(hasattr(t, "stack") for t in steps)

    def _arrays(self):
        if self._stacked[0] is not self.transform:
            self._stacked = (self.transform, transform_stack(self.transform, self._images))
        return self._stacked[1], self._labels

    def __repr__(self):
        lines = [f"Dataset {self.folder}", f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}", f"    Split: {'Train' if self.train else 'Test'}"]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)


class TorchvisionFashionMNIST(TorchvisionMNIST):
    """torchvision.datasets.FashionMNIST: as TorchvisionMNIST, from ``root/FashionMNIST/raw`` (or
    Debian's /usr/share/datasets/fashion-mnist); no offline fallback (only digits are bundled)."""
    folder = "FashionMNIST"
    engine_class = FashionMNIST
    bundled_fallback = False
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
