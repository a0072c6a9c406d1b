"""Devices and array modules.

Every array in the engine is either a NumPy array (device "cpu") or a CuPy
array (device "cuda").  Ops never import numpy or cupy to compute: they ask
`get_array_module(array)` for the module that owns their inputs, so one piece
of code serves both devices.  CuPy is imported lazily, only when a GPU is asked
for, so the CPU path needs nothing but NumPy.
"""
import functools
import importlib

import numpy as np

_cupy = None
_cupy_error = None
_probed = (None, None)   # (the cupy module probed, why it cannot be used or None)

CUDA_HINT = ("install it with `pip install \".[cuda12]\"` in the minitorch_cnn folder "
             "(`\".[cuda13]\"` for CUDA 13), or `pip install \"cupy-cuda12x[ctk]\"` directly")
# What `pip install ".[cuda12]"` / `".[cuda13]"` bring besides CuPy: its [ctk] extra.
LIBRARY_HINT = ("install the CUDA libraries from PyPI with `pip install \".[cuda12]\"` or "
                "`\".[cuda13]\"` in the minitorch_cnn folder (CuPy's [ctk] extra), or a CUDA toolkit")
# The oldest Linux driver each CUDA major runs on (NVIDIA's minor-version compatibility table).
MIN_DRIVER = {12: "525.60.13", 13: "580"}
# The smallest kernel that proves NVRTC compiles and the device runs what it compiled.
PROBE_KERNEL = 'extern "C" __global__ void minitorch_cnn_probe(int* out) { out[0] = 42; }'


def _import_cupy():
    """Return the cupy module or None; remember why it failed."""
    global _cupy, _cupy_error
    if _cupy is None and _cupy_error is None:
        try:
            import cupy
            _cupy = cupy
        except Exception as exc:  # ImportError, or a broken CUDA install
            _cupy_error = exc
    return _cupy


def _error_text(exc):
    """`Type: message` on one line (CUDA errors and compile logs can span several)."""
    message = " ".join(str(exc).split())
    if len(message) > 400:
        message = message[:400] + " ..."
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _cuda_version(number):
    """12040 -> '12.4' (how the CUDA runtime and driver report versions)."""
    return f"{number // 1000}.{number % 1000 // 10}"


def _driver_advice(runtime_version, driver_version):
    """What to install when the driver is older than CuPy's CUDA runtime."""
    wanted = runtime_version // 1000
    advice = f"install an NVIDIA driver for CUDA {wanted}.x"
    if wanted in MIN_DRIVER:
        advice += f" (>= {MIN_DRIVER[wanted]} on Linux)"
    has = driver_version // 1000
    if has in MIN_DRIVER and has != wanted:
        advice += (f", or the CuPy build for the CUDA {has}.x this driver runs: "
                   f"`pip install \".[cuda{has}]\"` (after `pip uninstall cupy-cuda{wanted}x`)")
    return advice


def _probe(cupy):
    """None when the CUDA path can run, else one sentence naming what failed and why.

    Checks, in the order a training step needs them: the driver serves CuPy's CUDA
    runtime and sees a GPU; NVRTC compiles a kernel that the GPU then runs (every
    kernels/*.cu is compiled so); cuBLAS multiplies (every matmul); cuRAND draws
    (dropout).  A missing libnvrtc/libcublas/libcurand only shows at first use,
    so each is used once here rather than at the first training step.
    """
    version = getattr(cupy, "__version__", "?")
    runtime = cupy.cuda.runtime
    try:
        runtime_version = runtime.runtimeGetVersion()
    except Exception:
        runtime_version = None
    try:
        driver_version = runtime.driverGetVersion()    # needs no context: works with a stale driver
    except Exception:
        driver_version = None
    cupy_name = f"CuPy {version}"
    built_for = cupy_name + (f" (CUDA runtime {_cuda_version(runtime_version)})" if runtime_version else "")
    try:
        count = runtime.getDeviceCount()
    except Exception as exc:
        text = _error_text(exc)
        if "InsufficientDriver" in text and driver_version == 0:
            return (f"no NVIDIA driver was found (cudaDriverGetVersion() = 0), so {built_for} "
                    f"cannot reach a GPU ({text}); "
                    "install the NVIDIA driver, or use device='cpu'")
        if "InsufficientDriver" in text and driver_version and runtime_version:
            return (f"the NVIDIA driver supports CUDA {_cuda_version(driver_version)}, older than "
                    f"the CUDA {_cuda_version(runtime_version)} runtime of {cupy_name} "
                    f"({text}); {_driver_advice(runtime_version, driver_version)}")
        if "NoDevice" in text:
            return f"{built_for} finds no NVIDIA GPU ({text}); use device='cpu'"
        return f"{built_for} cannot start CUDA ({text}); use device='cpu'"
    if count < 1:
        return f"{built_for} finds no NVIDIA GPU (cudaGetDeviceCount() = {count}); use device='cpu'"

    try:
        options = importlib.import_module("minitorch_cnn.cuda.loader").COMPILE_OPTIONS
        kernel = cupy.RawKernel(PROBE_KERNEL, "minitorch_cnn_probe", options=options)
        kernel.compile()
    except Exception as exc:
        return (f"NVRTC cannot compile a CUDA kernel with {built_for} ({_error_text(exc)}); "
                f"the GPU ops compile kernels/*.cu with it: {LIBRARY_HINT}")
    try:
        out = cupy.zeros(1, dtype=cupy.int32)
        kernel((1,), (1,), (out,))
        ran = int(out[0])
    except Exception as exc:
        return f"a kernel compiled by NVRTC cannot run on the GPU ({_error_text(exc)})"
    if ran != 42:
        return f"a kernel compiled by NVRTC ran but wrote {ran} instead of 42: the GPU or its driver misbehaves"
    try:
        ones = cupy.ones((2, 2), dtype=cupy.float32)
        product = float((ones @ ones)[0, 0])
    except Exception as exc:
        return f"cuBLAS cannot be used ({_error_text(exc)}); every matmul needs it: {LIBRARY_HINT}"
    if product != 2.0:
        return f"cuBLAS computed [[1, 1], [1, 1]] @ [[1, 1], [1, 1]] as {product} instead of 2"
    try:
        curand = cupy.cuda.curand      # CuPy loads libcurand here, on first access
        generator = cupy.random.RandomState(seed=0, method=curand.CURAND_RNG_PSEUDO_PHILOX4_32_10)
        generator.random_sample((1,), dtype=cupy.float32)
    except Exception as exc:
        return f"cuRAND cannot be used ({_error_text(exc)}); dropout needs it: {LIBRARY_HINT}"
    return None


def cuda_unavailable_reason():
    """None when device 'cuda' can be used here; otherwise one sentence saying what failed.

    The sentence quotes the error CuPy or CUDA gave (the import error, the driver and
    runtime versions, the missing library) and says what to install.  The probe
    (see `_probe`) runs once per process: its first call takes up to a second (it
    creates the CUDA context and compiles a one-line kernel), later calls nothing.
    """
    global _probed
    cupy = _import_cupy()
    if cupy is None:
        return f"CuPy could not be imported ({_error_text(_cupy_error)}); {CUDA_HINT}"
    if _probed[0] is not cupy:
        _probed = (cupy, _probe(cupy))
    return _probed[1]


def cuda_is_available():
    """True when CuPy imports, sees a GPU, and NVRTC, cuBLAS and cuRAND work
    (`cuda_unavailable_reason()` says why not)."""
    return cuda_unavailable_reason() is None


class CudaUnavailableError(RuntimeError, AssertionError):
    """Device 'cuda' asked for where it cannot run.  torch raises AssertionError ("Torch not
    compiled with CUDA enabled") or RuntimeError (no GPU) there; this is both."""


def require_cuda():
    """Return cupy, or raise one sentence saying what failed (cuda_unavailable_reason)."""
    reason = cuda_unavailable_reason()
    if reason is not None:
        raise CudaUnavailableError(f"device 'cuda' cannot be used: {reason}")
    return _cupy


def as_dtype(dtype):
    """A dtype given as a NumPy dtype, a name, or anything with a .name (None stays None)."""
    return None if dtype is None else np.dtype(getattr(dtype, "name", dtype))


# torch's device types: each names a device that mt.device accepts; only two run here
DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


class device:
    """torch.device: a type and an optional index, `device("cuda:0")`, `device("cuda", 0)`,
    `device(0)` (cuda:0); str() gives "cuda:0", repr() "device(type='cuda', index=0)".

    One departure, kept so that `t.device == "cpu"` reads as it always has here: a device also
    equals a string naming it ("cuda" equals cuda:0 too); torch's device never equals a string.
    """

    def __init__(self, type, index=None):   # noqa: A002  (torch's names)
        if isinstance(type, device):
            type, index = (type.type, type.index) if index is None else (type.type, index)
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        elif not isinstance(type, str):
            raise TypeError(f"device(): argument 'type' must be str, not {_name(type)}")
        elif ":" in type:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was "
                                   f"passed explicitly: {type}")
            type, _, text = type.partition(":")
            if not text.isdigit() or (len(text) > 1 and text[0] == "0"):
                raise RuntimeError(f"Invalid device string: '{type}:{text}'")
            index = int(text)
        if type not in DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(DEVICE_TYPES)} device type at start "
                               f"of device string: {type}")
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
            raise TypeError(f"device(): argument 'index' must be int, not {_name(index)}")
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        self.type, self.index = type, index

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except RuntimeError:
                return False
            return other.type == self.type and (None in (other.index, self.index) or other.index == self.index)
        if isinstance(other, device):
            return (self.type, self.index) == (other.type, other.index)
        return NotImplemented

    def __lt__(self, other):       # (sorted(), for messages that list devices in a stable order)
        return str(self) < str(other)

    def __hash__(self):
        return hash(self.type)     # equal to "cuda" and to cuda:0: the index cannot enter the hash

    def __reduce__(self):
        return device, (self.type, self.index)


def _name(value):
    return type(value).__name__


def device_object(name):
    """'cpu' | 'cuda' (what device_of says) -> the device a Tensor reports, as torch's:
    device(type='cpu') and device(type='cuda', index=0)."""
    return _CPU if name == "cpu" else _CUDA0


def normalize_device(device_):
    """'cpu' | 'cuda' | 'cuda:0' | mt.device | None -> 'cpu' or 'cuda' (one GPU: cuda:0)."""
    if device_ is None:
        return "cpu"
    if isinstance(device_, int) and not isinstance(device_, bool):
        device_ = device(device_)
    if isinstance(device_, str):
        try:
            device_ = device(device_.lower())
        except RuntimeError:
            raise ValueError(f"unknown device {device_!r}: expected 'cpu' or 'cuda'") from None
    name = getattr(device_, "type", None)
    if name not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {device_!r}: expected 'cpu' or 'cuda'")
    if name == "cuda" and getattr(device_, "index", None) not in (None, 0):
        raise ValueError(f"device {str(device_)!r}: minitorch_cnn runs on one GPU, cuda:0")
    return name


def get_array_module(array):
    """numpy for NumPy arrays and scalars, cupy for CuPy arrays."""
    if isinstance(array, np.ndarray):
        return np
    if _cupy is None and type(array).__module__.startswith("cupy"):
        _import_cupy()   # a CuPy array made before the engine itself needed CuPy
    if _cupy is None:
        return np
    return _cupy.get_array_module(array)


def device_of(array):
    return "cpu" if get_array_module(array) is np else "cuda"


def to_device(array, device):
    """Move (or keep) an array on `device`; copies only when it must move."""
    if normalize_device(device) == "cpu":
        if isinstance(array, np.ndarray):
            return array
        if _cupy is not None and isinstance(array, _cupy.ndarray):
            return _cupy.asnumpy(array)
        return np.asarray(array)
    cupy = require_cuda()
    return cupy.asarray(array)


def to_numpy(array):
    return to_device(array, "cpu")


_CPU, _CUDA0 = device("cpu"), device("cuda", 0)


def scatter_add(target, index, values):
    """target[index] += values, adding repeated indices (not in any hot path)."""
    if get_array_module(target) is np:
        np.add.at(target, index, values)
    else:
        import cupyx
        cupyx.scatter_add(target, index, values)


def cuda_twin(fn):
    """Decorator: `fn` for NumPy arrays; for CuPy arrays, the launch wrapper of the same
    name in minitorch_cnn/cuda/kernels.py (its CUDA source in kernels/*.cu).  The launchers
    are imported on the first CuPy array, so importing the engine loads no CUDA code."""
    @functools.wraps(fn)
    def dispatch(array, *args, **kwargs):
        if get_array_module(array) is np:
            return fn(array, *args, **kwargs)
        kernels = importlib.import_module("minitorch_cnn.cuda.kernels")
        return getattr(kernels, fn.__name__)(array, *args, **kwargs)
    return dispatch
