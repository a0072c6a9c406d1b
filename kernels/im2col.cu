// im2col and col2im: the two data movements around the convolution GEMM.
//
// Layouts (all contiguous, row-major):
//   x   (N, C, H, W)                         the input, or dx for col2im
//   col (N*out_h*out_w, kh*kw*C)             one row per output pixel,
//                                            one column per (kernel tap, channel)
//   row    r = (n*out_h + oy)*out_w + ox
//   column k = (i*kw + j)*C + c               (channels fastest, as ops/conv.py)
//   col[r, k] = x[n, c, oy*sh - ph + i*dh, ox*sw - pw + j*dw]   (0 outside x)
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


// im2col: one thread per element of col.
//
//   thread e  ->  (r, k) = (e / K, e % K)        K = kh*kw*C
//             ->  r = (n, oy, ox),  k = (i, j, c)
//   col[e] = x[n, c, iy, ix]   with iy = oy*sh - ph + i*dh,  ix = ox*sw - pw + j*dw
//
// Consecutive threads write consecutive elements of col, so the writes are
// coalesced; their reads are H*W apart (one per channel), and every x element
// is read by up to kh*kw threads, which the cache serves.
template <typename T>
__global__ void im2col(const T* __restrict__ x, T* __restrict__ col,
                       long long total,      // N*out_h*out_w * kh*kw*C
                       int C, int H, int W, int out_h, int out_w,
                       int kh, int kw, int sh, int sw,
                       int ph, int pw, int dh, int dw)
{
    const long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= total) return;

    // Split e into the row r (64-bit: it spans the batch) and the column k.
    const int K = kh * kw * C;
    const long long r = e / K;
    const int k = (int)(e - r * K);

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
//                    of col[(n*out_h + oy)*out_w + ox, (i*kw + j)*C + c]
//
// For a tap i the output row is fixed: oy = (iy + ph - i*dh) / sh, valid when
// the division is exact and 0 <= oy < out_h (the same for j and ox).  Every
// thread writes only its own pixel, in a fixed order (i, then j): no atomics,
// and the result is the same on every run.
template <typename T>
__global__ void col2im(const T* __restrict__ col, T* __restrict__ dx,
                       long long total,      // N*C*H*W
                       int C, int H, int W, int out_h, int out_w,
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

    const int K = kh * kw * C;
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
            const int k = (i * kw + j) * C + c;
            sum += col[r * K + k];
        }
    }
    dx[t] = sum;
}
