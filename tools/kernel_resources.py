"""Registers, stack and spills of every kernel in kernels/*.cu, as ptxas reports them.

    python tools/kernel_resources.py [--arch sm_90]

Compiles each file with nvcc, every kernel instantiated for float and double
(`--resource-usage`), and prints one line per kernel and type.  Exits 2 where nvcc is
missing.  tests/test_kernels_compile.py holds the numbers to their limits.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from minitorch_cnn.cuda import loader   # noqa: E402

_ENTRY = re.compile(r"Compiling entry function '(\w+)'")
_FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
_REGS = re.compile(r"Used (\d+) registers")
_TYPES = {"f": "float", "d": "double"}


def instantiation_unit(name):
    """C++ that includes kernels/<name> and instantiates every kernel for float and double."""
    kernels_in_file = loader.kernel_names(loader.read_source(name))
    addresses = ", ".join(f"(void*)&{k}<{t}>" for k in kernels_in_file for t in ("float", "double"))
    return f'#include "{REPO / "kernels" / name}"\nvoid* instantiate[] = {{{addresses}}};\n'


def resource_usage(name, arch="sm_90"):
    """{(kernel, ctype): {"registers", "stack", "spill_stores", "spill_loads"}} for kernels/<name>."""
    with tempfile.TemporaryDirectory() as tmp:
        unit = Path(tmp) / f"instantiate_{name}"
        unit.write_text(instantiation_unit(name))
        command = ["nvcc", "-c", "-o", os.path.join(tmp, "out.o"), "--std=c++17", f"-arch={arch}",
                   "--resource-usage", str(unit)]
        result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}\n{result.stdout}{result.stderr}")
    usage, current = {}, None
    for line in (result.stdout + result.stderr).splitlines():
        if (m := _ENTRY.search(line)):
            # _Z6col2imIfEv...: the kernel's name, then I<type>E
            mangled = re.match(r"_Z(\d+)(\w+)", m.group(1))
            length = int(mangled.group(1))
            kernel, rest = mangled.group(2)[:length], mangled.group(2)[length:]
            current = (kernel, _TYPES[rest[1]])
            usage[current] = {}
        elif current and (m := _FRAME.search(line)):
            usage[current].update(stack=int(m.group(1)), spill_stores=int(m.group(2)),
                                  spill_loads=int(m.group(3)))
        elif current and (m := _REGS.search(line)):
            usage[current]["registers"] = int(m.group(1))
    return usage


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="sm_90", help="(default: sm_90, H100/H200)")
    args = parser.parse_args(argv)
    if shutil.which("nvcc") is None:
        print("kernel_resources: nvcc (the CUDA toolkit) is not installed", file=sys.stderr)
        return 2
    print(f"| kernel | type | registers | stack bytes | spill stores/loads bytes |  ({args.arch})")
    print("|---|---|---:|---:|---:|")
    for source in loader.kernel_sources():
        for (kernel, ctype), u in sorted(resource_usage(source.name, args.arch).items()):
            print(f"| {source.name}: {kernel} | {ctype} | {u['registers']} | {u['stack']} | "
                  f"{u['spill_stores']}/{u['spill_loads']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
