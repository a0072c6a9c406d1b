"""MNIST and Fashion-MNIST from their IDX files, found on disk or downloaded.

A split is two files, ``{train,t10k}-images-idx3-ubyte`` and ``{train,t10k}-labels-idx1-ubyte``
(gzipped or not), read from the first of these folders that holds both:

    root/<Name>/raw/     torchvision's layout, and where downloads go (first: the two
                         datasets share file names, so root/ serves whichever is asked for)
    root/, root/raw/
    FashionMNIST only: /usr/share/datasets/fashion-mnist (Debian's `dataset-fashion-mnist`)

With download=True, missing files are fetched and checked against the official MD5s
(and unpacked beside the .gz, as torchvision does); offline, a DatasetNotFoundError
saying what was looked for where comes within a second or so.  Files on disk are not checksummed (Debian's have rewritten gzip headers) but
validated: a bad header or disagreeing counts raise a ValueError naming the file.
"""
import gzip
from pathlib import Path

import numpy as np

from ..serialization import atomic_write
from .dataset import ImageDataset
from .download import DEFAULT_TIMEOUT, DatasetNotFoundError, download_files
from .idx import read_idx
from .transforms import FASHION_MNIST_MEAN, FASHION_MNIST_STD, MNIST_MEAN, MNIST_STD


def _find_file(folder, name):
    """folder/name, name.gz, or the 'train-images.idx3-ubyte' spelling of some redistributions."""
    dotted = name.replace("-idx", ".idx")
    return next((folder / v for v in (name, name + ".gz", dotted, dotted + ".gz") if (folder / v).is_file()), None)


def _unpack(folder, names):
    """Write each downloaded name.gz of `names` unpacked beside it, as torchvision does (so its
    loader, which reads only unpacked files, finds them too)."""
    for name in names:
        packed = folder / name
        if packed.is_file() and not packed.with_suffix("").is_file():
            data = gzip.decompress(packed.read_bytes())
            atomic_write(packed.with_suffix(""), lambda f: f.write(data))


class MNIST(ImageDataset):
    """The MNIST handwritten digits (LeCun, Cortes & Burges): 60,000 train / 10,000 test, 28x28, 10 classes.

    `files` holds the two paths read.  Subclasses for other MNIST-format data set the class attributes.
    """
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
    mean, std = MNIST_MEAN, MNIST_STD
    classes = [str(d) for d in range(10)]
    system_dirs = ()

    def __init__(self, root, train=True, download=True, transform=None, target_transform=None,
                 normalize=True, timeout=DEFAULT_TIMEOUT):
        self.root, self.train = Path(root).expanduser(), bool(train)
        prefix = "train" if self.train else "t10k"
        self.names = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
        self.files, errors = self._find(), []
        if self.files is None and download:
            raw = self.root / self.folder / "raw"
            wanted = [n + ".gz" for n in self.names if _find_file(raw, n) is None]
            errors = download_files(wanted, self.mirrors, raw, self.md5s, timeout)
            _unpack(raw, wanted)
            self.files = self._find()
        if self.files is None:
            raise self._not_found(download, errors)
        images, labels = self._read(*self.files)
        super().__init__(images, labels, transform=transform, target_transform=target_transform,
                         normalize=normalize, mean=self.mean, std=self.std, classes=self.classes)

    def search_dirs(self):
        """The folders searched, in order."""
        return [self.root / self.folder / "raw", self.root, self.root / "raw", *map(Path, self.system_dirs)]

    def _find(self):
        """[images path, labels path] from the first folder holding both, or None."""
        for folder in self.search_dirs():
            files = [_find_file(folder, name) for name in self.names]
            if all(files):
                return files
        return None

    def _not_found(self, download, errors):
        dirs = self.search_dirs()
        missing = [n for n in self.names if not any(_find_file(d, n) for d in dirs)]
        what = (" and ".join(m + "[.gz]" for m in missing) + " not found in " if missing else
                "{} and {} are in no one folder of ".format(*(n + "[.gz]" for n in self.names)))
        message = (f"{type(self).__name__} ({'train' if self.train else 'test'} split): {what}"
                   f"{', '.join(map(str, dirs))}")
        if not download:
            message += "; download=False, so nothing was downloaded"
        elif errors:
            message += "; download failed: " + "; ".join(errors)
        message += (". Put the IDX files in one of those folders, allow the download, "
                    "or use BundledDigits() for an offline MNIST subset")
        return DatasetNotFoundError(message, missing=missing or self.names, searched=dirs, download_errors=errors)

    def _read(self, images_path, labels_path):
        """The two files' arrays, checked to be one MNIST-format split."""
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
            raise ValueError(f"{images_path}: expected an IDX image file of uint8 (N, 28, 28) "
                             f"(magic 0x00000803), got {images.dtype.name} {images.shape}")
        if labels.dtype != np.uint8 or labels.ndim != 1:
            raise ValueError(f"{labels_path}: expected an IDX label file of uint8 (N,) "
                             f"(magic 0x00000801), got {labels.dtype.name} {labels.shape}")
        if labels.shape[0] != images.shape[0]:
            raise ValueError(f"{labels_path}: {labels.shape[0]:,} labels for the {images.shape[0]:,} "
                             f"images of {images_path}")
        if labels.size and int(labels.max()) >= len(self.classes):
            raise ValueError(f"{labels_path}: label {int(labels.max())} outside 0..{len(self.classes) - 1}")
        return images, labels

    def __repr__(self):
        split = "train" if self.train else "test"
        return f"{type(self).__name__}({split}, {len(self):,} samples from {self.files[0].parent})"


class FashionMNIST(MNIST):
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
    mean, std = FASHION_MNIST_MEAN, FASHION_MNIST_STD
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    system_dirs = ("/usr/share/datasets/fashion-mnist",)    # Debian: apt-get install dataset-fashion-mnist
