"""Accuracy side by side: minitorch_cnn vs PyTorch on full Fashion-MNIST.

DigitCNN and LeNet-5, 3 epochs, Adam 1e-3, batch 64, float32; both frameworks start
from the same initial weights (minitorch_cnn's, loaded into PyTorch), see the same
batches in the same order, and drop the same units: PyTorch's Dropout layers are
swapped for one that draws its masks exactly as minitorch_cnn does, from a NumPy
generator seeded alike.  What remains different is float32 rounding.

    python benchmarks/accuracy.py [--data-dir DIR] [--epochs 3] [--models lenet5 digitcnn]
"""
import argparse
import json
import os
import platform
import sys
import time

import numpy as np
import torch

import minitorch_cnn as mt
from minitorch_cnn.allocator import keep_freed_memory
from minitorch_cnn.data import FashionMNIST
from minitorch_cnn.models import get_model
from minitorch_cnn.nn import functional as F

# The models' PyTorch twins live with the tests (tests/torch_models.py): the package never needs torch.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests"))
import torch_models  # noqa: E402


class NumpyMaskDropout(torch.nn.Module):
    """PyTorch dropout with minitorch_cnn's masks: keep where U[0, 1) >= p, scale by 1/(1 − p)."""

    def __init__(self, p, rng):
        super().__init__()
        self.p, self.rng = p, rng

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = self.rng.random(tuple(x.shape), dtype=np.float32) >= self.p
        mask = keep.astype(np.float32) * np.float32(1 / (1 - self.p))
        return x * torch.from_numpy(mask)


def share_dropout_masks(model, seed):
    """Replace every torch Dropout in `model` by NumpyMaskDropout drawing from one generator."""
    rng = np.random.default_rng(seed)
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, torch.nn.Dropout):
                setattr(module, name, NumpyMaskDropout(child.p, rng))


def train_minitorch(model, x, y, orders, batch_size, lr):
    opt = mt.optim.Adam(model.parameters(), lr=lr)
    seconds = []
    for order in orders:
        model.train()
        start = time.perf_counter()
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            loss = F.cross_entropy(model(mt.Tensor(x[idx])), mt.Tensor(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        seconds.append(time.perf_counter() - start)
    return seconds


def accuracy_minitorch(model, x, y):
    model.eval()
    correct = 0
    with mt.no_grad():
        for i in range(0, len(x), 1000):
            correct += int((model(mt.Tensor(x[i:i + 1000])).argmax(axis=1).array == y[i:i + 1000]).sum())
    return correct / len(x)


def train_torch(model, x, y, orders, batch_size, lr):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    seconds = []
    for order in orders:
        model.train()
        order_t = torch.from_numpy(order)
        start = time.perf_counter()
        for i in range(0, len(order), batch_size):
            idx = order_t[i:i + batch_size]
            loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        seconds.append(time.perf_counter() - start)
    return seconds


def accuracy_torch(model, x, y):
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(torch.from_numpy(x[i:i + 1000])).argmax(1) for i in range(0, len(x), 1000)])
    return float((pred.numpy() == y).mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--models", nargs="+", default=["digitcnn", "lenet5"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = parser.parse_args()
    keep_freed_memory()     # as training has it (minitorch_cnn/allocator.py)

    train, test = FashionMNIST(args.data_dir, train=True), FashionMNIST(args.data_dir, train=False)
    x_train, y_train = (np.ascontiguousarray(a) for a in train.arrays())
    x_test, y_test = (np.ascontiguousarray(a) for a in test.arrays())
    print(f"Fashion-MNIST: {len(x_train):,} train / {len(x_test):,} test, from "
          f"{os.path.dirname(train.files[0])}")
    rows = []
    for name in args.models:
        mt.manual_seed(args.seed)
        torch.manual_seed(args.seed)
        ours = get_model(name)
        theirs = getattr(torch_models, type(ours).__name__)()
        theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
        mt.manual_seed(args.seed)              # the dropout stream starts here, for both
        share_dropout_masks(theirs, args.seed)
        orders = [np.random.default_rng(args.seed + e).permutation(len(x_train)) for e in range(args.epochs)]
        mt_seconds = train_minitorch(ours, x_train, y_train, orders, args.batch_size, args.lr)
        torch_seconds = train_torch(theirs, x_train, y_train, orders, args.batch_size, args.lr)
        row = {"model": name, "epochs": args.epochs,
               "minitorch_test_acc": accuracy_minitorch(ours, x_test, y_test),
               "torch_test_acc": accuracy_torch(theirs, x_test, y_test),
               "minitorch_s_per_epoch": float(np.mean(mt_seconds)),
               "torch_s_per_epoch": float(np.mean(torch_seconds))}
        row["difference_pp"] = 100 * (row["minitorch_test_acc"] - row["torch_test_acc"])
        rows.append(row)
        print(f"{name}: minitorch_cnn {100 * row['minitorch_test_acc']:.2f}%  PyTorch "
              f"{100 * row['torch_test_acc']:.2f}%  ({row['difference_pp']:+.2f} pp); s/epoch "
              f"{row['minitorch_s_per_epoch']:.1f} vs {row['torch_s_per_epoch']:.1f}", flush=True)

    machine = (f"{platform.machine()}, {os.cpu_count()} cores, NumPy {np.__version__}, "
               f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)")
    lines = ["| model | epochs | minitorch_cnn test acc | PyTorch test acc | difference | "
             "minitorch_cnn s/epoch | PyTorch s/epoch |", "|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['model']} | {r['epochs']} | {100 * r['minitorch_test_acc']:.2f}% | "
              f"{100 * r['torch_test_acc']:.2f}% | {r['difference_pp']:+.2f} pp | "
              f"{r['minitorch_s_per_epoch']:.1f} | {r['torch_s_per_epoch']:.1f} |" for r in rows]
    table = "\n".join(lines)
    print(table)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "accuracy.json"), "w") as f:
        json.dump({"machine": machine, "date": time.strftime("%Y-%m-%d"), "rows": rows}, f, indent=2)
    with open(os.path.join(args.out, "accuracy.md"), "w") as f:
        f.write(f"Fashion-MNIST, Adam {args.lr}, batch {args.batch_size}, measured "
                f"{time.strftime('%Y-%m-%d')} on {machine}.\n\n{table}\n")


if __name__ == "__main__":
    main()
