// im2col and col2im: the two data movements around the convolution GEMM.
//
// Layouts (row-major):
//   x   (N, C, H, W)                         the input, or dx for col2im
//   col (kh*kw*C, N*out_h*out_w)             what im2col writes: one row per
//                                            (kernel tap, channel), one column
//                                            per output pixel (the wrapper hands
//                                            it on as its transpose, the
//                                            (rows, kh*kw*C) matrix of fast/conv.py)
//   row    r = (n*out_h + oy)*out_w + ox      (output pixel)
//   column k = (i*kw + j)*C + c               (channels fastest, as fast/conv.py)
//   col[k, r] = x[n, c, oy*sh - ph + i*dh, ox*sw - pw + j*dw]   (0 outside x)
// col2im reads its column gradient through four strides (see below), so it
// takes the layout the backward's GEMM writes, whatever it is, without a copy.
//
// Coalescing.  A warp's 32 threads have consecutive indices; its loads and
// stores coalesce into few memory transactions when consecutive threads touch
// consecutive addresses.  Both kernels order their threads with the output
// pixel (ox, or ix) fastest, the one index along which x, dx and a
// pixels-fastest col are all contiguous, so in both kernels the reads AND the
// writes coalesce (for stride 1; stride s spreads the x reads s elements).
// Shared-memory tiling could do better for strided convolutions but would
// need __syncthreads, which the host emulation deliberately lacks.
//
// Both kernels are templates over the element type T (float or double); the
// loader instantiates them by name, e.g. "im2col<float>".  The files include
// no header, so they compile unchanged under nvcc, NVRTC and (for the tests)
// g++ with a small emulation header.
//
// Index arithmetic: the element counts of a whole batch (`total`) may exceed
// 2^31, so the thread index and every offset that spans the batch are
// 64-bit (long long).  Counts inside one image (kh*kw*C, out_h*out_w, H*W)
// are checked by the Python wrapper to fit in int.


// im2col: one thread per element of col (K, rows), K = kh*kw*C.
//
//   thread e  ->  (k, r) = (e / rows, e % rows)
//             ->  k = (i, j, c),  r = (n, oy, ox)
//   col[e] = x[n, c, iy, ix]   with iy = oy*sh - ph + i*dh,  ix = ox*sw - pw + j*dw
//
// Writes: consecutive threads write consecutive elements of col: coalesced.
// Reads: consecutive threads have consecutive ox at the same (n, c, i, j), so
// they read x along a row of the image, sw elements apart: coalesced for
// stride 1.  (Threads ordered the other way, (r, k) with the channel fastest,
// wrote (rows, K) coalesced but read x H*W elements apart.)
template <typename T>
__global__ void im2col(const T* __restrict__ x, T* __restrict__ col,
                       long long total,      // kh*kw*C * N*out_h*out_w
                       long long rows,       // N*out_h*out_w
                       int C, int H, int W, int out_h, int out_w,
                       int kw, int sh, int sw,     // (kh is implied by total / rows)
                       int ph, int pw, int dh, int dw)
{
    const long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= total) return;

    // Split e into the column k of the (rows, K) matrix and the row r
    // (64-bit: it spans the batch).
    const int k = (int)(e / rows);
    const long long r = e - (long long)k * rows;

    // Column k -> kernel tap (i, j) and channel c.
    const int c = k % C;
    const int j = (k / C) % kw;
    const int i = k / (C * kw);

    // Row r -> image n and output pixel (oy, ox).
    const int plane = out_h * out_w;
    const long long n = r / plane;
    const int p = (int)(r - n * plane);
    const int oy = p / out_w;
    const int ox = p % out_w;

    // The input pixel this tap reads; taps that fall in the padding read 0.
    const int iy = oy * sh - ph + i * dh;
    const int ix = ox * sw - pw + j * dw;
    T value = T(0);
    if (iy >= 0 && iy < H && ix >= 0 && ix < W)
        value = x[((n * C + c) * H + iy) * W + ix];
    col[e] = value;
}


// col2im: the adjoint of im2col, dx = im2colᵀ(col).  One thread per INPUT
// pixel (n, c, iy, ix) gathers every col entry that im2col copied from it:
//
//   dx[n, c, iy, ix] = Σ over taps (i, j) and output pixels (oy, ox) with
//                        oy*sh - ph + i*dh == iy  and  ox*sw - pw + j*dw == ix
//                    of colgrad(r = (n*out_h + oy)*out_w + ox, tap = i*kw + j, c)
//
// The column gradient is read through strides, in elements:
//   colgrad(r, tap, c) = col[r*row_stride + tap*tap_stride
//                            + g*group_stride + cg*channel_stride]
//   with g = c / channels_per_group, cg = c % channels_per_group
// so any permutation of the axes (rows, taps, groups, channels per group) of
// a contiguous array can be read in place: the (kh*kw, rows, C) blocks the
// CPU's GEMM writes, and the (groups, kh*kw, C/groups, rows) blocks the GPU's
// GEMM writes (fast/conv.py, Conv2d.backward).
//
// Writes: consecutive threads write consecutive dx elements: coalesced.
// Reads: consecutive threads have consecutive ix, hence (stride 1, same tap)
// consecutive ox and r; with row_stride == 1, the GPU layout, they read
// consecutive elements: coalesced.  That is why the GPU's backward writes the
// column gradient pixels-fastest.  With the CPU layout (row_stride == C) the
// reads are C apart; the kernel still computes the same sums.
//
// For a tap i the output row is fixed: oy = (iy + ph - i*dh) / sh, valid when
// the division is exact and 0 <= oy < out_h (the same for j and ox).  Every
// thread writes only its own pixel, in a fixed order (i, then j): no atomics,
// and the result is the same on every run.
template <typename T>
__global__ void col2im(const T* __restrict__ col, T* __restrict__ dx,
                       long long total,      // N*C*H*W
                       long long row_stride, long long tap_stride,
                       long long group_stride, long long channel_stride,
                       int C, int channels_per_group, int H, int W, int out_h, int out_w,
                       int kh, int kw, int sh, int sw,
                       int ph, int pw, int dh, int dw)
{
    const long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= total) return;

    // t -> plane nc = n*C + c (64-bit: it spans the batch) and pixel (iy, ix).
    const int HW = H * W;
    const long long nc = t / HW;
    const int p = (int)(t - nc * HW);
    const int iy = p / W;
    const int ix = p % W;
    const long long n = nc / C;
    const int c = (int)(nc - n * C);
    const int g = c / channels_per_group;
    const long long channel = g * group_stride + (c - g * channels_per_group) * channel_stride;

    T sum = T(0);
    for (int i = 0; i < kh; ++i) {
        const int ty = iy + ph - i * dh;           // = oy * sh if tap i reads iy
        if (ty < 0 || ty % sh != 0) continue;
        const int oy = ty / sh;
        if (oy >= out_h) continue;
        for (int j = 0; j < kw; ++j) {
            const int tx = ix + pw - j * dw;       // = ox * sw if tap j reads ix
            if (tx < 0 || tx % sw != 0) continue;
            const int ox = tx / sw;
            if (ox >= out_w) continue;
            const long long r = (n * out_h + oy) * out_w + ox;
            sum += col[r * row_stride + (i * kw + j) * tap_stride + channel];
        }
    }
    dx[t] = sum;
}
