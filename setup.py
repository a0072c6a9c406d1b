"""Packaging for minitorch_cnn: NumPy is the only core dependency."""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
GRADCHECK = ["pytest>=7", "hypothesis>=6"]
# Data parallelism (minitorch_cnn.distributed): mpi4py, and MPICH as a wheel that brings mpiexec,
# so no system MPI and no compiler are needed (both ship manylinux wheels).
DISTRIBUTED = ["mpi4py>=3.1", "mpich"]

setup(
    name="minitorch_cnn",
    version="0.1.0",
    description="A from-scratch, readable, exact and fast deep-learning engine for CNNs on NumPy and CuPy",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["minitorch_cnn", "minitorch_cnn.*"]) + ["minitorch_cnn.kernels"],
    # The CUDA C sources live in the top-level kernels/ folder (so a reader finds
    # them at once) and are installed inside the package as minitorch_cnn/kernels.
    package_dir={"minitorch_cnn.kernels": "kernels"},
    package_data={
        "minitorch_cnn.kernels": ["*.cu", "*.cuh", "*.h"],
        "minitorch_cnn.data": ["*.npz"],
    },
    include_package_data=True,
    install_requires=["numpy>=1.23"],
    extras_require={
        # The gradient checks and the engine's own tests: NumPy, pytest and hypothesis, no torch.
        "gradcheck": GRADCHECK,
        # The whole suite: the torch-parity tests, the plot tests and the MPI tests too.  torch 2.13.0 is the
        # CPU wheel this project's CI installs from local disk; any torch >= 2.1 works for the
        # parity tests.  expecttest: torch.testing._internal imports it, and tests/test_torch_opinfo.py
        # runs PyTorch's own OpInfo/ModuleInfo samples from there.
        "test": GRADCHECK + ["torch>=2.1", "matplotlib>=3.5", "expecttest"] + DISTRIBUTED,
        "distributed": DISTRIBUTED,
        # The GPU path: CuPy with its [ctk] extra, the CUDA libraries from PyPI that the path
        # loads (NVRTC compiles kernels/*.cu, cuBLAS runs every matmul, cuRAND draws dropout
        # masks), so no CUDA toolkit is needed, only the NVIDIA driver: CUDA 12.x needs
        # >= 525.60.13 and CUDA 13.x >= 580 on Linux.  [ctk] came with CuPy 14 (which needs
        # NumPy >= 2.0).
        "cuda12": ["cupy-cuda12x[ctk]>=14"],
        "cuda13": ["cupy-cuda13x[ctk]>=14"],
        "torchvision": ["torchvision"],
        "plot": ["matplotlib>=3.5"],
    },
    entry_points={"console_scripts": ["minitorch-cnn-train=minitorch_cnn.train:main"]},
    classifiers=["Programming Language :: Python :: 3", "License :: OSI Approved :: MIT License"],
)
