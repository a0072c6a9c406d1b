// Host emulation of the CUDA built-ins the kernels in kernels/*.cu use.
//
// Force-included in front of a .cu file (g++ -include cuda_host.h), it lets
// g++ compile the unchanged kernel source as plain C++ for the CPU:
//   - the execution-space keywords (__global__, __device__, ...) vanish, so a
//     kernel becomes an ordinary function;
//   - blockIdx, threadIdx, blockDim and gridDim become global variables that
//     the launcher (launch.h) sets before it calls the kernel once per thread;
//   - the few device functions the kernels call get host definitions.
//
// The launcher runs the threads of a grid one after another.  That is a
// faithful emulation only for kernels whose threads never talk to each other,
// which holds for every kernel here (each thread writes its own output
// element).  __syncthreads, __shared__ and atomics are deliberately left
// undefined: a kernel that needs them fails to compile on the host instead of
// passing a test it should not.
#pragma once

struct uint3 { unsigned int x, y, z; };
struct dim3 { unsigned int x, y, z; };

// C++17 inline variables: one instance shared by every translation unit.
inline uint3 blockIdx = {0, 0, 0};
inline uint3 threadIdx = {0, 0, 0};
inline dim3 blockDim = {1, 1, 1};
inline dim3 gridDim = {1, 1, 1};

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
// __restrict__ is already a g++ keyword.

// Integer min/max, as CUDA declares them for device code.
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }

// Reinterpret the bits of an integer as a floating-point number.
inline float __int_as_float(int bits)
{
    float value;
    __builtin_memcpy(&value, &bits, sizeof value);
    return value;
}
inline double __longlong_as_double(long long bits)
{
    double value;
    __builtin_memcpy(&value, &bits, sizeof value);
    return value;
}
