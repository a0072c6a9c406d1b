"""Fuzz: conv2d, max/avg/adaptive pooling, linear and batch_norm, and their layers, against torch.

Random shapes (empty batches, zero channels and zero sides included), unbatched inputs,
hyper-parameters of every kind (valid, out of range, wrong-typed), every dtype the harness
draws (float16/32/64, int, bool), NaN/±inf and non-contiguous inputs.  tests/_fuzz.py holds
minitorch to torch's outcome: the same result and gradients, or both refusing clearly.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from _fuzz import ALL_DTYPES, FLOAT_DTYPES, FUZZ, against_torch, arrays

torch = pytest.importorskip("torch", reason="needs torch: every fuzz case here holds minitorch to torch's outcome")

def hyper(low, high):
    """Mostly a valid int or pair in [low, high] (a one-element tuple included); sometimes an
    out-of-range value or a wrong type."""
    good = st.integers(low, high)
    valid = st.one_of(good, st.tuples(good, good), st.tuples(good))
    return st.one_of(valid, valid, valid, valid, valid, st.sampled_from(BAD_HYPER(low)))


def BAD_HYPER(low):
    return [low - 1, (low, low - 1), 2.0, "2", None, True, (1, 2.0), (1, 2, 3), []]


# Each case draws several arguments, so most are valid and reach the value comparison.
MANY = settings(parent=FUZZ, max_examples=80)

# NaN/inf inputs make NumPy warn (inf − inf); empty layers warn that their init is a no-op (as torch).
pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:Initializing zero-element tensors:UserWarning")]

# Dtypes of valid calls: mostly floats (gradients compared), integers sometimes.
VALID_DTYPES = FLOAT_DTYPES + FLOAT_DTYPES + (np.int64, np.int32, np.uint8)


def same_or_other_dtype(draw, dtype):
    """Usually the input's dtype, sometimes another one (mixed-dtype calls must be refused)."""
    return dtype if draw(st.integers(0, 7)) else draw(st.sampled_from(ALL_DTYPES))


def fitting_side(draw, kernel, padding, dilation=1):
    """A side the window fits in (the smallest is often the interesting one)."""
    return max(1, dilation * (kernel - 1) + 1 - 2 * padding + draw(st.integers(0, 3)))


# ---- conv2d ------------------------------------------------------------------------------

@st.composite
def conv_cases(draw):
    """A valid call most of the time; otherwise one thing is off (a hyper-parameter's value or
    type, the channels, the dtypes, an empty side, the bias)."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    c_in, c_out = groups * draw(st.integers(0, 2)), groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    hw = [fitting_side(draw, k, p, d) for k, p, d in zip(kernel, padding, dilation)]
    batch = () if draw(st.integers(0, 4)) == 0 else (draw(st.integers(0, 2)),)
    dtype = draw(st.sampled_from(VALID_DTYPES))
    x_dtype = w_dtype = b_dtype = dtype
    params = dict(stride=draw(st.sampled_from([stride, stride[0], (stride[0],)])),
                  padding=padding, dilation=dilation, groups=groups)
    bias_shape = draw(st.sampled_from([None, (c_out,)]))
    fault = draw(st.sampled_from([None] * 8 + ["hyper", "channels", "dtype", "side", "bias", "groups"]))
    if fault == "hyper":
        key = draw(st.sampled_from(["stride", "padding", "dilation"]))
        params[key] = draw(st.sampled_from(BAD_HYPER(0 if key == "padding" else 1)))
    elif fault == "channels":
        c_in += 1
    elif fault == "dtype":
        x_dtype, w_dtype, b_dtype = (draw(st.sampled_from(ALL_DTYPES)) for _ in range(3))
    elif fault == "side":
        hw[draw(st.integers(0, 1))] = draw(st.integers(0, 1))
    elif fault == "bias":
        bias_shape = draw(st.sampled_from([(c_out + 1,), (1, c_out), (0,)]))
    elif fault == "groups":
        params["groups"] = draw(st.sampled_from([0, -1, 2.0, True, 4]))
    x = draw(arrays(batch + (c_in,) + tuple(hw), (x_dtype,)))
    # Finite weights: torch's float32 (oneDNN) convolution skips the padding, so inf/NaN weights
    # give finite border outputs there, while its float64/float16 path (and ours) multiply the
    # zero padding (NaN); NaN/inf inputs are fine.
    w = draw(arrays((c_out, c_in // groups) + kernel, (w_dtype,), special=False))
    b = None if bias_shape is None else draw(arrays(bias_shape, (b_dtype,)))
    return x, w, b, params


@MANY
@given(conv_cases())
def test_conv2d(case):
    x, w, b, params = case
    against_torch("conv2d", lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, **params), [x, w, b])


# ---- pooling -----------------------------------------------------------------------------

@st.composite
def pool_cases(draw, dtypes=VALID_DTYPES, padded=True):
    """(x, kernel, stride, padding): valid most of the time, else one thing off."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel) if padded else (0, 0)
    stride = draw(st.sampled_from([None, (draw(st.integers(1, 3)), draw(st.integers(1, 3)))]))
    hw = [fitting_side(draw, k, p) for k, p in zip(kernel, padding)]
    lead = draw(st.sampled_from([(draw(st.integers(0, 2)), draw(st.integers(1, 3))), (draw(st.integers(1, 3)),)]))
    dtype = draw(st.sampled_from(dtypes))
    args = [draw(st.sampled_from([kernel, kernel[0], (kernel[0],)])), stride, padding]
    fault = draw(st.sampled_from([None] * 8 + ["hyper", "dims", "dtype", "side", "padding"]))
    if fault == "hyper":
        i = draw(st.integers(0, 2))
        args[i] = draw(st.sampled_from(BAD_HYPER(0 if i == 2 else 1)))
    elif fault == "dims":
        lead = draw(st.sampled_from([(), (1, 1, 1)]))
    elif fault == "dtype":
        dtype = draw(st.sampled_from(ALL_DTYPES))
    elif fault == "side":
        hw[draw(st.integers(0, 1))] = 0
    elif fault == "padding":
        args[2] = (kernel[0] // 2 + 1, 0)
    return (draw(arrays(lead + tuple(hw), (dtype,))),) + tuple(args)


@MANY
@given(pool_cases())
def test_max_pool2d(case):
    x, kernel, stride, padding = case
    against_torch("max_pool2d", lambda lib, x: lib.nn.functional.max_pool2d(x, kernel, stride, padding), [x])


@MANY
@given(pool_cases(dtypes=FLOAT_DTYPES + FLOAT_DTYPES + (np.int64,)), st.booleans())
def test_avg_pool2d(case, count_include_pad):
    x, kernel, stride, padding = case
    against_torch("avg_pool2d", lambda lib, x: lib.nn.functional.avg_pool2d(
        x, kernel, stride, padding, count_include_pad=count_include_pad), [x])


@st.composite
def adaptive_inputs(draw, dtypes=FLOAT_DTYPES + FLOAT_DTYPES + ALL_DTYPES):
    dims = draw(st.sampled_from([4, 4, 3, 3, 2, 5]))
    shape = tuple(draw(st.integers(0 if i < dims - 2 else 1, 3 if i < dims - 2 else 7)) for i in range(dims))
    if draw(st.integers(0, 9)) == 0:                  # an empty side
        shape = shape[:-1] + (0,)
    return draw(arrays(shape, (draw(st.sampled_from(dtypes)),)))


OUTPUT_SIZES = st.one_of(st.integers(1, 8), st.integers(0, 8), st.tuples(st.integers(1, 8), st.integers(1, 8)),
                         st.tuples(st.none(), st.integers(1, 5)), st.tuples(st.integers(1, 5), st.none()),
                         st.sampled_from([1, (1, 1), None, 2.0, (2,), (1, 2, 3), -1, (2, 2.0), True, [3, 2]]))


@MANY
@given(adaptive_inputs(), OUTPUT_SIZES)
def test_adaptive_avg_pool2d(x, output_size):
    against_torch("adaptive_avg_pool2d",
                  lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, output_size), [x])


# ---- linear ------------------------------------------------------------------------------

@st.composite
def linear_cases(draw):
    in_f, out_f = draw(st.integers(0, 4)), draw(st.integers(0, 3))
    lead = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    dtype = draw(st.sampled_from(VALID_DTYPES))
    w_dtype = b_dtype = dtype
    x_shape, w_shape = lead + (in_f,), (out_f, in_f)
    # no 0-d bias: the harness hands torch np.ascontiguousarray(a), which is 1-D for a 0-d a
    bias_shape = draw(st.sampled_from([None, (out_f,), (out_f,), (1, out_f), (1,)]))
    fault = draw(st.sampled_from([None] * 6 + ["features", "vector weight", "dtype", "bias", "bool"]))
    if fault == "features":
        x_shape = lead + (in_f + 1,)
    elif fault == "vector weight":
        w_shape, bias_shape = (in_f,), None
    elif fault == "dtype":
        w_dtype, b_dtype = draw(st.sampled_from(ALL_DTYPES)), draw(st.sampled_from(ALL_DTYPES))
    elif fault == "bias":
        bias_shape = draw(st.sampled_from([(out_f + 1,), (2, 1, out_f), (3, out_f)]))
    elif fault == "bool":
        dtype = w_dtype = b_dtype = np.bool_
    x = draw(arrays(x_shape, (dtype,)))
    w = draw(arrays(w_shape, (w_dtype,)))
    b = None if bias_shape is None else draw(arrays(bias_shape, (b_dtype,)))
    return x, w, b


@MANY
@given(linear_cases())
def test_linear(case):
    against_torch("linear", lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), list(case))


# ---- batch_norm --------------------------------------------------------------------------

@st.composite
def batch_norm_cases(draw):
    dims = draw(st.sampled_from([2, 3, 4, 4, 5]))
    shape = tuple(draw(st.integers(1 if i == 1 else 0, 3)) for i in range(dims))
    dtype = draw(st.sampled_from(FLOAT_DTYPES))
    c = shape[1]
    # a float16 input takes float16 or float32 parameters (torch's mixed mode)
    param_dtype = np.float32 if dtype == np.float16 and draw(st.booleans()) else dtype
    stats, affine = draw(st.booleans()), draw(st.booleans())
    params = dict(training=draw(st.booleans()), momentum=draw(st.sampled_from([0.1, 0.0, 1.0, 0.5])),
                  eps=draw(st.sampled_from([1e-5, 1e-3])))
    fault = draw(st.sampled_from([None] * 6 + ["dtype", "input dtype", "shape", "eps", "one stat", "dims"]))
    if fault == "dtype":
        param_dtype = draw(st.sampled_from(ALL_DTYPES))
    elif fault == "input dtype":
        dtype = draw(st.sampled_from((np.int64, np.bool_)))
    elif fault == "dims":
        shape = shape[:draw(st.integers(0, 1))]
        c = 2
    elif fault == "eps":
        params["eps"] = draw(st.sampled_from([0.0, -1.0, "1", None]))
    x = draw(arrays(shape, (dtype,)))
    c_params = c + (fault == "shape")

    def param(low=-3.0, high=3.0):
        return draw(arrays((c_params,), (param_dtype,), special=False, low=low, high=high))
    mean = param() if stats or fault == "one stat" else None
    var = param(0.1) if stats else None
    return x, mean, var, param() if affine else None, param() if affine else None, params


@MANY
@given(batch_norm_cases())
def test_batch_norm(case):
    x, mean, var, w, b, params = case
    float_arg = [a is not None and a.dtype.kind == "f" for a in (x, mean, var, w, b)]
    against_torch("batch_norm", lambda lib, x, mean, var, w, b: (
        lib.nn.functional.batch_norm(x, mean, var, w, b, **params), mean, var),
        [x, mean, var, w, b], requires_grad=[float_arg[0], False, False, float_arg[3], float_arg[4]])


# ---- the layers --------------------------------------------------------------------------

def layer_call(cls, args, kwargs, train=True):
    """fn(lib, x) for against_torch: builds the layer in each library (torch first), copies
    torch's initial parameters into minitorch's, and runs it."""
    built = {}

    def run(lib, x):
        layer = getattr(lib.nn, cls)(*args, **kwargs)
        layer.train(train)
        if lib is torch:
            built["torch"] = layer
        elif "torch" in built:
            for name, p in built["torch"].named_parameters():
                getattr(layer, name).data[...] = p.detach().numpy()
        out = layer(x)
        if cls.startswith("BatchNorm") and layer.running_mean is not None:
            return out, layer.running_mean, layer.running_var
        return out
    return run


BAD_SIZES = [2.5, "2", True, -1, None]


@st.composite
def conv_layer_cases(draw):
    """(constructor args, kwargs, x): valid most of the time, else one thing off."""
    c_in, c_out = draw(st.integers(0, 3)), draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    kwargs = dict(stride=draw(st.integers(1, 2)), padding=draw(st.integers(0, 1)), bias=draw(st.booleans()))
    hw = tuple(k + draw(st.integers(0, 2)) for k in kernel)
    shape = (draw(st.integers(0, 2)), c_in) + hw
    args = [c_in, c_out, draw(st.sampled_from([kernel, kernel[0]]))]
    dtype = np.float32
    fault = draw(st.sampled_from([None] * 6 + ["unbatched", "size", "kernel", "hyper", "dtype", "channels"]))
    if fault == "unbatched":
        shape = shape[1:]
    elif fault == "size":
        args[draw(st.integers(0, 1))] = draw(st.sampled_from(BAD_SIZES))
    elif fault == "kernel":
        args[2] = draw(st.sampled_from([0, 2.0, (3,), (1, 2, 3), None]))
    elif fault == "hyper":
        kwargs[draw(st.sampled_from(["stride", "padding"]))] = draw(st.sampled_from(BAD_HYPER(1)))
    elif fault == "dtype":
        dtype = draw(st.sampled_from([np.float64, np.float16, np.int64]))
    elif fault == "channels":
        shape = shape[:1] + (c_in + 1,) + shape[2:]
    return tuple(args), kwargs, draw(arrays(shape, (dtype,)))


@MANY
@given(conv_layer_cases())
def test_conv2d_layer(case):
    args, kwargs, x = case
    against_torch("Conv2d", layer_call("Conv2d", args, kwargs), [x])


@st.composite
def linear_layer_cases(draw):
    in_f, out_f = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    lead = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    args, shape, dtype = [in_f, out_f], lead + (in_f,), np.float32
    fault = draw(st.sampled_from([None] * 6 + ["size", "dtype", "features"]))
    if fault == "size":
        args[draw(st.integers(0, 1))] = draw(st.sampled_from(BAD_SIZES))
    elif fault == "dtype":
        dtype = draw(st.sampled_from([np.float64, np.float16, np.int64]))
    elif fault == "features":
        shape = lead + (in_f + 1,)
    return tuple(args), dict(bias=draw(st.booleans())), draw(arrays(shape, (dtype,)))


@MANY
@given(linear_layer_cases())
def test_linear_layer(case):
    args, kwargs, x = case
    against_torch("Linear", layer_call("Linear", args, kwargs), [x])


@MANY
@given(st.sampled_from(["MaxPool2d", "AvgPool2d"]), pool_cases(dtypes=(np.float32, np.float64, np.float16, np.int64)))
def test_pool_layers(cls, case):
    x, kernel, stride, padding = case
    against_torch(cls, layer_call(cls, (kernel, stride, padding), {}), [x])


@MANY
@given(OUTPUT_SIZES, adaptive_inputs(dtypes=(np.float32, np.float64, np.int64)))
def test_adaptive_avg_pool2d_layer(output_size, x):
    against_torch("AdaptiveAvgPool2d", layer_call("AdaptiveAvgPool2d", (output_size,), {}), [x])


@MANY
@given(st.sampled_from(["BatchNorm1d", "BatchNorm2d"]), st.integers(1, 3),
       st.sampled_from([0.1, None, 0.5]), st.booleans(), st.booleans(), st.booleans(), st.data())
def test_batch_norm_layers(cls, c, momentum, affine, track, train, data):
    dims = data.draw(st.sampled_from([2, 3]) if cls == "BatchNorm1d" else st.sampled_from([4, 4, 3]))
    shape = tuple(c if i == 1 else data.draw(st.integers(0, 3)) for i in range(dims))
    x = data.draw(arrays(shape, (np.float32, np.float32, np.float16, np.float64)))
    against_torch(cls, layer_call(cls, (c,), dict(momentum=momentum, affine=affine, track_running_stats=track),
                                  train=train), [x])
