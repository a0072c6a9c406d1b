"""What DataLoader workers buy: images/s with num_workers 0, 1, 2, minitorch_cnn's DataLoader beside
torch's, on the same dataset in one run.

The dataset is the bundled digits' training split (4,000 images, 28x28 uint8) read sample by sample
through a per-sample augmentation written in NumPy: pad by 4 and take a random 28x28 crop, rotate by
a random angle up to 15 degrees (bilinear resampling), add a little Gaussian noise, normalise with
MNIST's mean and std.  It costs a few tenths of a millisecond per image, the order of a real
augmentation pipeline; its random numbers come from NumPy's global generator, which both loaders
seed per worker.  Both loaders run the very same dataset object and get (float32 (B, 1, 28, 28),
int64 (B,)) batches.  Each configuration runs `--epochs` full passes (worker start-up included, as a
script pays it every epoch without persistent_workers); the table gives images/s over them, the
speed-up over num_workers=0 of the same loader, and ours / torch's.  One engine at a time,
alternating for `--rounds` rounds; the best round is kept.

    python benchmarks/bench_loader.py [--batch-size 64] [--epochs 2] [--rounds 2] [--out DIR]
"""
import argparse
import json
import os
import platform
import time

import numpy as np

from minitorch_cnn.allocator import keep_freed_memory
from minitorch_cnn.data import BundledDigits, MNIST_MEAN, MNIST_STD
from minitorch_cnn.utils.data import DataLoader, Dataset

MAX_DEGREES, PAD, NOISE = 15.0, 4, 0.05


def augment(image):
    """uint8 (28, 28) -> float32 (1, 28, 28): random crop, random rotation, noise, normalisation."""
    size = image.shape[0]
    padded = np.pad(image.astype(np.float32) / 255.0, PAD)
    top, left = np.random.randint(0, 2 * PAD + 1, size=2)
    crop = padded[top:top + size, left:left + size]
    angle = np.deg2rad(np.random.uniform(-MAX_DEGREES, MAX_DEGREES))
    centre = (size - 1) / 2
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float32) - centre
    src_r = np.cos(angle) * rows - np.sin(angle) * cols + centre       # where each output pixel comes from
    src_c = np.sin(angle) * rows + np.cos(angle) * cols + centre
    r0, c0 = np.floor(src_r).astype(np.int64), np.floor(src_c).astype(np.int64)
    fr, fc = src_r - r0, src_c - c0
    edged = np.pad(crop, 1)                                            # out-of-image reads see zeros
    r0, c0 = np.clip(r0 + 1, 0, size), np.clip(c0 + 1, 0, size)
    rotated = ((1 - fr) * (1 - fc) * edged[r0, c0] + (1 - fr) * fc * edged[r0, c0 + 1]
               + fr * (1 - fc) * edged[r0 + 1, c0] + fr * fc * edged[r0 + 1, c0 + 1])
    noisy = rotated + np.random.normal(0.0, NOISE, rotated.shape).astype(np.float32)
    return ((noisy - MNIST_MEAN) / MNIST_STD).astype(np.float32)[None]


class AugmentedDigits(Dataset):
    """The bundled digits' training split, each image through `augment` when read."""

    def __init__(self):
        digits = BundledDigits(train=True, normalize=False)
        self.images, self.labels = np.asarray(digits.data), np.asarray(digits.targets)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return augment(self.images[index]), int(self.labels[index])


def images_per_second(loader_class, dataset, batch_size, workers, epochs):
    loader = loader_class(dataset, batch_size=batch_size, shuffle=True, num_workers=workers)
    start, seen = time.perf_counter(), 0
    for _ in range(epochs):
        for images, labels in loader:
            assert tuple(images.shape[1:]) == (1, 28, 28) and str(labels.dtype).endswith("int64")
            seen += len(labels)
    return seen / (time.perf_counter() - start)


def per_sample_ms(dataset, n=500):
    start = time.perf_counter()
    for i in range(n):
        dataset[i]
    return (time.perf_counter() - start) / n * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", default=None, help="folder for loader.json and loader.md")
    args = parser.parse_args()
    keep_freed_memory()
    import torch
    import torch.utils.data as torch_data
    torch.set_num_threads(1)
    dataset = AugmentedDigits()
    np.random.seed(0)
    cost = per_sample_ms(dataset)
    engines = {"minitorch_cnn": DataLoader, "torch": torch_data.DataLoader}
    best = {(e, w): 0.0 for e in engines for w in args.workers}
    for _ in range(args.rounds):
        for workers in args.workers:
            for engine, loader_class in engines.items():
                rate = images_per_second(loader_class, dataset, args.batch_size, workers, args.epochs)
                best[engine, workers] = max(best[engine, workers], rate)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [f"# DataLoader workers: images/s, {len(dataset):,} augmented digits, batch {args.batch_size}, "
             f"{args.epochs} epochs per run, best of {args.rounds} rounds",
             "", f"augmentation: {cost:.3f} ms per image (measured here, in the main process); "
             f"{cpus} CPUs visible; torch {torch.__version__}; Python {platform.python_version()}", "",
             "| num_workers | minitorch_cnn images/s | speed-up | torch images/s | speed-up | ours / torch |",
             "|---|---|---|---|---|---|"]
    for workers in args.workers:
        ours, theirs = best["minitorch_cnn", workers], best["torch", workers]
        lines.append(f"| {workers} | {ours:,.0f} | {ours / best['minitorch_cnn', args.workers[0]]:.2f}x | "
                     f"{theirs:,.0f} | {theirs / best['torch', args.workers[0]]:.2f}x | {ours / theirs:.2f} |")
    print("\n".join(lines))
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "loader.md"), "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.join(args.out, "loader.json"), "w") as f:
            json.dump({"per_sample_ms": cost, "cpus": cpus, "batch_size": args.batch_size, "epochs": args.epochs,
                       "rounds": args.rounds, "torch": torch.__version__,
                       "images_per_second": {f"{e} workers={w}": r for (e, w), r in best.items()}}, f, indent=1)


if __name__ == "__main__":
    main()
