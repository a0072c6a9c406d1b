"""MNIST and Fashion-MNIST from their IDX files, found on disk or downloaded.

Each split is two files, ``{train,t10k}-images-idx3-ubyte`` and
``{train,t10k}-labels-idx1-ubyte``, gzipped (``.gz``) or not.  They are looked
for, in order, in

    root/                     the files dropped straight into root
    root/<Name>/raw/          torchvision's layout (root/MNIST/raw, root/FashionMNIST/raw)
    root/raw/
    system folders            FashionMNIST: /usr/share/datasets/fashion-mnist
                              (Debian's `dataset-fashion-mnist` package)

A folder is used only when it holds both files of the split.  As MNIST and
Fashion-MNIST share file names, official label files of the other dataset
(recognised by MD5) are skipped in the shared folders root/ and root/raw/.

When a split's files are missing and download=True, they are fetched into
root/<Name>/raw/ from the mirrors below, each verified against the MD5 of the
official file.  Offline, that fails within a second or so and raises
DatasetNotFoundError, which says what was looked for where.

Files found on disk are not checksummed (Debian, for one, ships the official
Fashion-MNIST data with rewritten gzip headers, so its .gz bytes differ), but
their IDX headers are validated: wrong magic numbers, truncated files or image
and label counts that disagree raise a ValueError naming the file.
"""
import gzip
import hashlib
import zlib
from pathlib import Path

import numpy as np

from .dataset import ImageDataset
from .download import DEFAULT_TIMEOUT, DatasetNotFoundError, download_files
from .idx import read_idx
from .transforms import FASHION_MNIST_MEAN, FASHION_MNIST_STD, MNIST_MEAN, MNIST_STD

IMAGES_MAGIC, LABELS_MAGIC = 0x00000803, 0x00000801
_IDX_DATASETS = []      # every IDXImageDataset subclass, to tell their files apart


def _find_variant(folder, name):
    """folder/name, name.gz, or the 'train-images.idx3-ubyte' spelling of some re-distributions."""
    dotted = name.replace("-idx", ".idx")
    return next((folder / v for v in (name, name + ".gz", dotted, dotted + ".gz") if (folder / v).is_file()), None)


def split_file_names(train):
    """The two IDX base names of a split: (images, labels)."""
    prefix = "train" if train else "t10k"
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


class IDXImageDataset(ImageDataset):
    """A 28x28 greyscale dataset stored as MNIST-format IDX files (the base of MNIST and FashionMNIST).

    Subclasses set `folder`, `mirrors`, `md5s`, `mean`/`std`, `classes` and
    optionally `system_dirs`.  After loading, `files` holds the two paths read.
    """
    folder = None
    mirrors = ()
    md5s = {}
    mean = std = None
    classes = ()
    system_dirs = ()
    label_md5s = frozenset()     # MD5s identifying the official label files (.gz bytes or content)
    image_size = (28, 28)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _IDX_DATASETS.append(cls)

    def __init__(self, root, train=True, download=True, transform=None, target_transform=None,
                 normalize=True, timeout=DEFAULT_TIMEOUT):
        self.root = Path(root).expanduser()
        self.train = bool(train)
        names = split_file_names(self.train)
        files = self.find_files(self.root, self.train)
        errors = []
        if any(f is None for f in files) and download:
            wanted = [n + ".gz" for n, f in zip(names, files) if f is None]
            _, errors = download_files(wanted, self.mirrors, self.root / self.folder / "raw",
                                       self.md5s, timeout)
            files = self.find_files(self.root, self.train)
        if any(f is None for f in files):
            raise self._not_found(names, files, download, errors)
        self.files = files
        images, labels = self._load(*files)
        super().__init__(images, labels, transform=transform, target_transform=target_transform,
                         normalize=normalize, mean=self.mean, std=self.std, classes=self.classes)

    # ---- finding the files ------------------------------------------------
    @classmethod
    def search_dirs(cls, root):
        """The folders searched, in order."""
        root = Path(root).expanduser()
        return [root, root / cls.folder / "raw", root / "raw"] + [Path(d) for d in cls.system_dirs]

    @classmethod
    def find_files(cls, root, train=True):
        """[images path, labels path] of a split from the first folder holding both.

        When no folder holds both, each entry is the first file found anywhere, or None.
        """
        names = split_file_names(train)
        root = Path(root).expanduser()
        shared = {root, root / "raw"}        # folders that MNIST and Fashion-MNIST would both read
        partial = [None, None]
        for folder in cls.search_dirs(root):
            hits = [_find_variant(folder, name) for name in names]
            if folder in shared and hits[1] is not None and cls._labels_of_another_dataset(hits[1]):
                continue
            if all(hits):
                return hits
            partial = [p or h for p, h in zip(partial, hits)]
        return partial

    @classmethod
    def _labels_of_another_dataset(cls, labels_path):
        """True when labels_path is a known official label file of another IDX dataset (MNIST vs Fashion-MNIST)."""
        others = set().union(*(c.label_md5s for c in _IDX_DATASETS)) - cls.label_md5s
        if not others:
            return False
        raw = labels_path.read_bytes()
        digests = {hashlib.md5(raw, usedforsecurity=False).hexdigest()}
        if labels_path.suffix == ".gz":
            try:
                digests.add(hashlib.md5(gzip.decompress(raw), usedforsecurity=False).hexdigest())
            except (OSError, EOFError, zlib.error):
                return False                 # corrupt: let the reader report it
        return bool(digests & others)

    def _not_found(self, names, files, download, errors):
        cls = type(self)
        missing = [n for n, f in zip(names, files) if f is None]
        dirs = self.search_dirs(self.root)
        split = "train" if self.train else "test"
        message = (f"{cls.__name__} ({split} split): {' and '.join(m + '[.gz]' for m in missing)} "
                   f"not found in {', '.join(str(d) for d in dirs)}")
        if not download:
            message += "; download=False, so nothing was downloaded"
        elif errors:
            message += "; download failed: " + "; ".join(errors)
        message += (". Put the IDX files in one of those folders, allow the download, "
                    "or use BundledDigits() for an offline MNIST subset")
        return DatasetNotFoundError(message, missing=missing, searched=dirs, download_errors=errors)

    # ---- reading and validating -------------------------------------------
    def _load(self, images_path, labels_path):
        images, labels = read_idx(images_path), read_idx(labels_path)
        h, w = self.image_size
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (h, w):
            raise ValueError(f"{images_path}: expected an IDX image file of uint8 (N, {h}, {w}) "
                             f"(magic 0x{IMAGES_MAGIC:08X}), got {images.dtype.name} {images.shape}")
        if labels.dtype != np.uint8 or labels.ndim != 1:
            raise ValueError(f"{labels_path}: expected an IDX label file of uint8 (N,) "
                             f"(magic 0x{LABELS_MAGIC:08X}), got {labels.dtype.name} {labels.shape}")
        if labels.shape[0] != images.shape[0]:
            raise ValueError(f"{labels_path}: {labels.shape[0]:,} labels for the {images.shape[0]:,} "
                             f"images of {images_path}")
        if labels.size and int(labels.max()) >= len(self.classes):
            raise ValueError(f"{labels_path}: label {int(labels.max())} outside 0..{len(self.classes) - 1}")
        return images, labels

    def __repr__(self):
        split = "train" if self.train else "test"
        return f"{type(self).__name__}({split}, {len(self):,} samples from {self.files[0].parent})"


class MNIST(IDXImageDataset):
    """The MNIST handwritten digits (LeCun, Cortes & Burges): 60,000 train / 10,000 test, 28x28, 10 classes."""
    folder = "MNIST"
    mirrors = (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",        # PyTorch's mirror
        "https://storage.googleapis.com/cvdf-datasets/mnist/",    # TensorFlow's mirror
        "http://yann.lecun.com/exdb/mnist/",                      # the original site
    )
    md5s = {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    label_md5s = frozenset({md5s["train-labels-idx1-ubyte.gz"], md5s["t10k-labels-idx1-ubyte.gz"]})
    mean, std = MNIST_MEAN, MNIST_STD
    classes = [str(d) for d in range(10)]


class FashionMNIST(IDXImageDataset):
    """Zalando's Fashion-MNIST (Xiao, Rasul & Vollgraf, MIT licence): 60,000 train / 10,000 test, 28x28."""
    folder = "FashionMNIST"
    mirrors = (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    )
    md5s = {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    }
    label_md5s = frozenset({md5s["train-labels-idx1-ubyte.gz"], md5s["t10k-labels-idx1-ubyte.gz"],
                            "9018921c3c673c538a1fc5bad174d6f9",    # train labels, uncompressed
                            "15d484375f8d13e6eb1aabb0c3f46965"})   # t10k labels, uncompressed
    # measured on the 60,000 training images
    mean, std = FASHION_MNIST_MEAN, FASHION_MNIST_STD
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    system_dirs = ("/usr/share/datasets/fashion-mnist",)   # Debian: apt-get install dataset-fashion-mnist
