// 2-D max and average pooling, forward and backward.
//
// Layouts (all contiguous, row-major):
//   x, dx              (N, C, H, W)
//   out, grad_out      (N, C, out_h, out_w)
//   argmax             (N, C, out_h, out_w) int: the window offset i*kw + j
//                      of the element that won the window
// Window (oy, ox) covers the input rows oy*sh - ph + i and columns
// ox*sw - pw + j for 0 <= i < kh, 0 <= j < kw; rows and columns outside the
// input are padding.  The N*C planes are independent, so every index below
// first splits off the plane nc = n*C + c.
//
// Forward kernels run one thread per OUTPUT element; backward kernels run one
// thread per INPUT element and gather from the windows that contain it, so
// every thread writes only its own dx element: no atomics, and the same
// result on every run.
//
// Coalescing.  In all four kernels consecutive threads have consecutive
// pixels along a row (ox, or ix), and every array is NCHW with W fastest, so
// both sides coalesce: the writes always (consecutive elements), the reads of
// a forward kernel sw elements apart (stride 1: consecutive; the usual stride
// 2: two 128-byte lines per warp, the second line read at the next tap from
// L1), the reads of a backward kernel at ox = ix / sw, the same or the next
// element (served by one transaction per warp).  No thread order would do
// better without shared memory.
//
// Kernels are templates over the element type T (float or double); the
// loader instantiates them by name, e.g. "max_pool2d_forward<float>".  No
// header is included, so the file compiles under nvcc, NVRTC and g++.
// The thread index and all offsets that span the batch are 64-bit; counts
// inside one plane (H*W, out_h*out_w) are checked by the wrapper to fit in int.


// NaN is the only value that differs from itself.
template <typename T>
__device__ __forceinline__ bool is_nan(T v) { return v != v; }

// -infinity from its bit pattern (no header needed).
template <typename T> __device__ __forceinline__ T negative_infinity();
template <> __device__ __forceinline__ float negative_infinity<float>()
{ return -__int_as_float(0x7f800000); }
template <> __device__ __forceinline__ double negative_infinity<double>()
{ return -__longlong_as_double(0x7ff0000000000000LL); }


// The windows that contain input row iy: all oy with
//   oy*sh - ph <= iy <= oy*sh - ph + kh - 1,   0 <= oy < out_h.
// With r = iy + ph (the row in the padded input) that is
//   ceil((r - kh + 1) / sh) <= oy <= floor(r / sh).
// The same function serves the columns.
__device__ __forceinline__ void windows_containing(int iy, int pad, int k, int s,
                                                   int out_size, int* lo, int* hi)
{
    const int r = iy + pad;
    *lo = r < k ? 0 : (r - k) / s + 1;
    *hi = min(r / s, out_size - 1);
}


// Max-pool forward: one thread per output element (nc, oy, ox).
//
//   out[nc, oy, ox]    = max over the window of x[nc, iy, ix]  (padding = -inf)
//   argmax[nc, oy, ox] = i*kw + j of that element
//
// The window is scanned row by row and a value replaces the best one only if
// it is strictly greater, so among equal maxima the first in scan order wins.
// As in PyTorch, a NaN always replaces the best one: the output is NaN and
// argmax names the last NaN of the window.
//
// Coalesced: writes of out and argmax (consecutive ox), and the reads of x at
// each tap (i, j) (consecutive ox read x sw elements apart along a row).
template <typename T>
__global__ void max_pool2d_forward(const T* __restrict__ x, T* __restrict__ out,
                                   int* __restrict__ argmax,
                                   long long total,      // N*C*out_h*out_w
                                   int H, int W, int out_h, int out_w,
                                   int kh, int kw, int sh, int sw, int ph, int pw)
{
    const long long o = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (o >= total) return;

    const int out_plane = out_h * out_w;
    const long long nc = o / out_plane;
    const int p = (int)(o - nc * out_plane);
    const int oy = p / out_w;
    const int ox = p % out_w;
    const T* plane = x + nc * H * W;

    T best = negative_infinity<T>();   // position 0 until something beats it
    int best_k = 0;
    for (int i = 0; i < kh; ++i) {
        const int iy = oy * sh - ph + i;
        for (int j = 0; j < kw; ++j) {
            const int ix = ox * sw - pw + j;
            const bool inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
            const T v = inside ? plane[iy * W + ix] : negative_infinity<T>();
            if (v > best || is_nan(v)) {
                best = v;
                best_k = i * kw + j;
            }
        }
    }
    out[o] = best;
    argmax[o] = best_k;
}


// Max-pool backward: one thread per input element (nc, iy, ix).
//
//   dx[nc, iy, ix] = Σ over windows (oy, ox) containing (iy, ix) whose
//                    argmax is this element's offset in that window
//                    of grad_out[nc, oy, ox]
//
// Coalesced: writes of dx (consecutive ix); reads of grad_out and argmax at
// ox = (ix + pw - j) / sw, so a warp's 32 threads read at most 32/sw + kw
// consecutive elements of one row.
template <typename T>
__global__ void max_pool2d_backward(const T* __restrict__ grad_out,
                                    const int* __restrict__ argmax,
                                    T* __restrict__ dx,
                                    long long total,      // N*C*H*W
                                    int H, int W, int out_h, int out_w,
                                    int kh, int kw, int sh, int sw, int ph, int pw)
{
    const long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= total) return;

    const int in_plane = H * W;
    const long long nc = t / in_plane;
    const int p = (int)(t - nc * in_plane);
    const int iy = p / W;
    const int ix = p % W;

    int oy_lo, oy_hi, ox_lo, ox_hi;
    windows_containing(iy, ph, kh, sh, out_h, &oy_lo, &oy_hi);
    windows_containing(ix, pw, kw, sw, out_w, &ox_lo, &ox_hi);

    const long long base = nc * out_h * out_w;
    T sum = T(0);
    for (int oy = oy_lo; oy <= oy_hi; ++oy) {
        const int i = iy + ph - oy * sh;              // row inside the window
        for (int ox = ox_lo; ox <= ox_hi; ++ox) {
            const int j = ix + pw - ox * sw;          // column inside the window
            const long long o = base + oy * out_w + ox;
            if (argmax[o] == i * kw + j) sum += grad_out[o];
        }
    }
    dx[t] = sum;
}


// The number of input elements (not padding) in window (oy, ox).
__device__ __forceinline__ int window_count(int oy, int ox, int H, int W,
                                            int kh, int kw, int sh, int sw,
                                            int ph, int pw)
{
    const int y0 = oy * sh - ph, x0 = ox * sw - pw;
    const int rows = min(y0 + kh, H) - max(y0, 0);
    const int cols = min(x0 + kw, W) - max(x0, 0);
    return rows * cols;
}


// Avg-pool forward: one thread per output element (nc, oy, ox).
//
//   out[nc, oy, ox] = (Σ over the window of x, padding counting 0) / divisor
//   divisor = kh*kw                          if count_include_pad
//           = number of non-padding elements otherwise
//
// Coalesced: writes of out (consecutive ox), reads of x sw elements apart.
template <typename T>
__global__ void avg_pool2d_forward(const T* __restrict__ x, T* __restrict__ out,
                                   long long total,      // N*C*out_h*out_w
                                   int H, int W, int out_h, int out_w,
                                   int kh, int kw, int sh, int sw, int ph, int pw,
                                   int count_include_pad)
{
    const long long o = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (o >= total) return;

    const int out_plane = out_h * out_w;
    const long long nc = o / out_plane;
    const int p = (int)(o - nc * out_plane);
    const int oy = p / out_w;
    const int ox = p % out_w;
    const T* plane = x + nc * H * W;

    // Sum only the window's rows and columns that lie inside the input.
    const int y0 = oy * sh - ph, x0 = ox * sw - pw;
    T sum = T(0);
    for (int iy = max(y0, 0); iy < min(y0 + kh, H); ++iy)
        for (int ix = max(x0, 0); ix < min(x0 + kw, W); ++ix)
            sum += plane[iy * W + ix];

    const int divisor = count_include_pad
        ? kh * kw : window_count(oy, ox, H, W, kh, kw, sh, sw, ph, pw);
    out[o] = sum / T(divisor);
}


// Avg-pool backward: one thread per input element (nc, iy, ix).
//
//   dx[nc, iy, ix] = Σ over windows (oy, ox) containing (iy, ix)
//                    of grad_out[nc, oy, ox] / divisor(oy, ox)
//
// Coalesced: writes of dx (consecutive ix); reads of grad_out as in the
// max-pool backward (neighbouring threads, the same or the next element).
template <typename T>
__global__ void avg_pool2d_backward(const T* __restrict__ grad_out,
                                    T* __restrict__ dx,
                                    long long total,      // N*C*H*W
                                    int H, int W, int out_h, int out_w,
                                    int kh, int kw, int sh, int sw, int ph, int pw,
                                    int count_include_pad)
{
    const long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= total) return;

    const int in_plane = H * W;
    const long long nc = t / in_plane;
    const int p = (int)(t - nc * in_plane);
    const int iy = p / W;
    const int ix = p % W;

    int oy_lo, oy_hi, ox_lo, ox_hi;
    windows_containing(iy, ph, kh, sh, out_h, &oy_lo, &oy_hi);
    windows_containing(ix, pw, kw, sw, out_w, &ox_lo, &ox_hi);

    const long long base = nc * out_h * out_w;
    T sum = T(0);
    for (int oy = oy_lo; oy <= oy_hi; ++oy) {
        for (int ox = ox_lo; ox <= ox_hi; ++ox) {
            const int divisor = count_include_pad
                ? kh * kw : window_count(oy, ox, H, W, kh, kw, sh, sw, ph, pw);
            sum += grad_out[base + oy * out_w + ox] / T(divisor);
        }
    }
    dx[t] = sum;
}
