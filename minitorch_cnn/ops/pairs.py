"""(height, width) hyper-parameters shared by convolution and pooling."""
import numbers


def pair(value, name, minimum):
    """int or (h, w) -> (h, w) of ints >= minimum, else a ValueError naming `name`."""
    values = (value, value) if isinstance(value, numbers.Integral) else tuple(value)
    if len(values) != 2 or not all(isinstance(v, numbers.Integral) for v in values):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in values):
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    return int(values[0]), int(values[1])


def conv_output_size(hw, kernel_size, stride, padding, dilation=(1, 1), op=None):
    """out = (in + 2·pad − dilation·(k − 1) − 1) // stride + 1 for each of height and width.

    With `op` given, a window larger than the padded input raises a ValueError naming op.
    """
    sizes = []
    for size, k, s, p, d in zip(hw, kernel_size, stride, padding, dilation):
        span = d * (k - 1) + 1
        if op is not None and span > size + 2 * p:
            raise ValueError(f"{op}: kernel size {tuple(kernel_size)} (dilation {tuple(dilation)}) "
                             f"is larger than the padded input {tuple(hw)} + 2·{tuple(padding)}")
        sizes.append((size + 2 * p - span) // s + 1)
    return tuple(sizes)


def window_taps(kernel_size, stride, dilation, out_hw):
    """For each kernel offset (i, j), row-major: the (rows, columns) slices of a padded
    input that hold offset (i, j) of every window, out_h × out_w of them."""
    (kh, kw), (sh, sw), (dh, dw), (out_h, out_w) = kernel_size, stride, dilation, out_hw
    return [(slice(i * dh, i * dh + sh * (out_h - 1) + 1, sh), slice(j * dw, j * dw + sw * (out_w - 1) + 1, sw))
            for i in range(kh) for j in range(kw)]
