"""Build kernels/*.cu for the CPU with g++ and call the kernels through ctypes.

    module = build_host_module(Path("kernels/pool.cu"), tmp_dir)
    kernel = module.get_function("max_pool2d_forward<float>")
    kernel((blocks,), (256,), (x, out, argmax, numpy.int64(n), numpy.int32(H), ...))

`get_function` and the call mirror cupy.RawModule / cupy.RawKernel, so the
launch wrappers of minitorch_cnn.cuda.kernels run unchanged on NumPy arrays
once the tests swap CuPy for NumPy and the loader for a HostModule.

How a .cu file becomes a shared library: a generated C++ file includes it
(unchanged) after launch.h and exports, for every template kernel the loader
finds in it and each element type, `launch_<name>_<T>` (runs the grid, see
launch.h) and `signature_<name>_<T>` (its C parameter list).  g++ compiles
that file with cuda_host.h force-included, which maps the CUDA keywords and
built-ins to plain C++.

A call checks each argument against the C parameter list, exactly: arrays
must be C-contiguous NumPy arrays of the pointee's dtype, scalars must be
NumPy scalars of the parameter's type (numpy.int32 for `int`, numpy.int64 for
`long long`), the same rule CuPy's RawKernel relies on.  Each array is copied
into a buffer with NaN / sentinel guard zones on both sides: a kernel that
reads out of bounds picks up the poison, one that writes out of bounds or into
a `const` array fails the call.
"""
import ctypes
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np

from minitorch_cnn.cuda.loader import CTYPES, kernel_names

HERE = Path(__file__).resolve().parent
GUARD = 64   # poisoned elements on each side of every array

_C_TYPES = {"int": np.int32, "long long": np.int64, "float": np.float32, "double": np.float64}
_CTYPES_SCALAR = {np.int32: ctypes.c_int32, np.int64: ctypes.c_int64,
                  np.float32: ctypes.c_float, np.float64: ctypes.c_double}


def gxx():
    """The g++ executable, or None."""
    return shutil.which("g++")


def poison(dtype):
    """The value the guard zones and fresh outputs are filled with."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return dtype.type(np.nan)
    return dtype.type(np.iinfo(dtype).min + 12345)


def poisoned_empty(shape, dtype=np.float64):
    """np.empty whose contents are poison: an element the kernel forgets stays NaN."""
    return np.full(shape, poison(dtype), dtype=dtype)


def build_host_module(cu_file, out_dir):
    """Compile kernels/<cu_file> for the host; returns a HostModule."""
    cu_file = Path(cu_file).resolve()
    names = kernel_names(cu_file.read_text(encoding="utf-8"))
    exports = "\n".join(f"EXPORT_KERNEL({name}, {ctype})"
                        for name in names for ctype in CTYPES.values())
    cpp = Path(out_dir) / f"{cu_file.stem}_host.cpp"
    cpp.write_text(f'#include "launch.h"\n#include "{cu_file}"\n\n{exports}\n', encoding="utf-8")
    lib = cpp.with_suffix(".so")
    command = [gxx(), "-std=c++17", "-O1", "-shared", "-fPIC", "-Wall", "-Wextra",
               "-I", str(HERE), "-include", str(HERE / "cuda_host.h"),
               "-x", "c++", str(cpp), "-o", str(lib)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0 or result.stderr.strip():
        raise RuntimeError(f"host build of {cu_file.name} failed or warned:\n"
                           f"{' '.join(command)}\n{result.stderr}")
    return HostModule(lib, names)


class HostModule:
    """The host build of one .cu file; get_function as in cupy.RawModule."""

    def __init__(self, lib_path, names):
        self.lib = ctypes.CDLL(str(lib_path))
        self.names = names
        self.launches = []   # (name, grid, block) of every call, for the tests

    def get_function(self, name_expression):
        match = re.fullmatch(r"(\w+)<(\w+)>", name_expression.replace(" ", ""))
        if match is None or match.group(1) not in self.names:
            raise AttributeError(f"no kernel {name_expression!r}; this module has "
                                 f"{self.names} for {list(CTYPES.values())}")
        return HostKernel(self, name_expression, f"{match.group(1)}_{match.group(2)}")


class HostKernel:
    """One kernel instantiation; kernel(grid, block, args) as in cupy.RawKernel."""

    def __init__(self, module, name, symbol):
        self.module, self.name = module, name
        self._launch = getattr(module.lib, f"launch_{symbol}")
        self._launch.argtypes = [ctypes.c_uint, ctypes.c_uint, ctypes.POINTER(ctypes.c_void_p)]
        self._launch.restype = None
        signature = getattr(module.lib, f"signature_{symbol}")
        signature.restype = ctypes.c_char_p
        self.params = signature().decode().split(",")

    def __call__(self, grid, block, args):
        grid, block = tuple(grid), tuple(block)
        assert len(grid) == 1 and len(block) == 1, f"{self.name}: 1-D launches only"
        assert all(isinstance(v, int) and v > 0 for v in grid + block), (grid, block)
        assert block[0] <= 1024 and grid[0] < 2**31, f"{self.name}: launch {grid}x{block}"
        if len(args) != len(self.params):
            raise TypeError(f"{self.name}: {len(args)} arguments for the C parameters "
                            f"({', '.join(self.params)})")
        keep, pointers, arrays = [], [], []
        for position, (arg, param) in enumerate(zip(args, self.params)):
            if param.endswith("*"):
                value, buffer = self._array_argument(position, arg, param)
                arrays.append((arg, buffer, param.startswith("const ")))
            else:
                value = self._scalar_argument(position, arg, param)
            keep.append(value)
            pointers.append(ctypes.cast(ctypes.pointer(value), ctypes.c_void_p))
        argv = (ctypes.c_void_p * len(pointers))(*pointers)
        self.module.launches.append((self.name, grid, block))
        self._launch(grid[0], block[0], argv)
        for array, buffer, const in arrays:
            self._check_and_copy_back(array, buffer, const)

    def _array_argument(self, position, arg, param):
        dtype = np.dtype(_C_TYPES[param.removeprefix("const ").removesuffix("*")])
        if not isinstance(arg, np.ndarray) or arg.dtype != dtype or not arg.flags.c_contiguous:
            raise TypeError(f"{self.name}: argument {position} ({param}) needs a C-contiguous "
                            f"{dtype} array, got {type(arg).__name__} "
                            f"{getattr(arg, 'dtype', '')} {getattr(arg, 'flags', '')}")
        buffer = np.full(arg.size + 2 * GUARD, poison(dtype), dtype=dtype)
        buffer[GUARD:GUARD + arg.size] = arg.reshape(-1)
        return ctypes.c_void_p(buffer.ctypes.data + GUARD * dtype.itemsize), buffer

    def _scalar_argument(self, position, arg, param):
        scalar_type = _C_TYPES[param]
        if type(arg) is not scalar_type:
            raise TypeError(f"{self.name}: argument {position} ({param}) needs a "
                            f"numpy.{scalar_type.__name__}, got {type(arg).__name__}")
        return _CTYPES_SCALAR[scalar_type](arg)

    def _check_and_copy_back(self, array, buffer, const):
        data = buffer[GUARD:GUARD + array.size]
        guards = np.concatenate([buffer[:GUARD], buffer[GUARD + array.size:]])
        fresh = np.full(2 * GUARD, poison(buffer.dtype), dtype=buffer.dtype)
        if guards.tobytes() != fresh.tobytes():
            raise AssertionError(f"{self.name}: wrote outside an array of {array.size} elements")
        if const:
            if data.tobytes() != array.reshape(-1).tobytes():
                raise AssertionError(f"{self.name}: wrote into a const array")
        else:
            array.reshape(-1)[...] = data
