"""The one permutation between reference.im2col's columns and fast/conv.py's.

reference.im2col orders a receptive field's columns (c, i, j), torch's unfold order and
that of weight.reshape(C_out, C·kh·kw); fast/conv.py's im2col (and the CUDA im2col
kernel) store them (i, j, c), channels last, so a window row is one contiguous run.
"""
import numpy as np


def fast_columns(ref_col, channels, kernel):
    """(rows, C·kh·kw) in (c, i, j) order -> the same matrix with columns in (i, j, c) order."""
    kh, kw = kernel
    return np.ascontiguousarray(
        ref_col.reshape(-1, channels, kh, kw).transpose(0, 2, 3, 1).reshape(ref_col.shape[0], -1))


def is_tap_major(col):
    """fast/conv.py's im2col stores col as (kh·kw·C, rows) for few channels (a transposed view)."""
    return not col.flags.c_contiguous and col.T.flags.c_contiguous
