"""How long NumPy's BLAS threads slow PyTorch down after a matrix product.

OpenBLAS's idle workers spin for a while after each GEMM; a PyTorch step started in that
window shares a core with them.  This prints PyTorch's LeNet-5 training speed right after
one NumPy GEMM, for several pauses in between: the reason bench_train.py pauses (QUIET_S)
before each block.

    python benchmarks/thread_interference.py
    OPENBLAS_THREAD_TIMEOUT=4 python benchmarks/thread_interference.py   # workers sleep at once
"""
import statistics
import time

import numpy as np
import torch

from bench_train import batch, make_pair, timed, torch_stepper


def main():
    from minitorch_cnn.allocator import keep_freed_memory
    keep_freed_memory()     # as bench_train.py has it (minitorch_cnn/allocator.py)
    _, model = make_pair("lenet5")
    x, y = batch(64)
    step = torch_stepper(model)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    a = np.random.default_rng(0).random((512, 512), dtype=np.float32)
    timed(lambda: step(tx, ty), 10)
    for pause in (0, 0.02, 0.05, 0.1, 0.2, 0.5):
        rates = []
        for _ in range(5):
            a @ a
            time.sleep(pause)
            rates.append(64 * 5 / timed(lambda: step(tx, ty), 5))
        print(f"pause {pause:4.2f} s after a NumPy GEMM: PyTorch LeNet-5 trains at "
              f"{statistics.median(rates):,.0f} img/s")


if __name__ == "__main__":
    main()
