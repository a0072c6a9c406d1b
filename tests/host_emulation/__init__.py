"""Run the CUDA kernels of kernels/*.cu on the CPU: see build.py and cuda_host.h."""
