"""How readable the engine is, in numbers (issue 20's before/after table).

    python tools/engine_metrics.py [--root CHECKOUT] [--json FILE]

For the package under CHECKOUT (default: this one) it prints
  - line counts: the engine core (Tensor, autograd, ops, core/, fast/) and the package;
  - the learner's path: the core/ files docs/README.md lists, if it lists any;
  - the ten longest functions of the package;
  - what one F.conv2d(x, w, b) forward and backward runs through: the package's functions
    entered (traced with sys.setprofile), their lines and files, with the fast paths on and
    (where the switch exists) off;
  - import circles: the package's modules that import each other, from every import
    statement (top level or not), as strongly connected components.
The conv2d trace runs in a subprocess with CHECKOUT first on sys.path, so it measures that
checkout's code.
"""
import argparse
import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

TRACE = r"""
import json, os, sys
import numpy as np
import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
root = os.path.dirname(mt.__file__)
rng = np.random.default_rng(0)
x = mt.tensor(rng.standard_normal((4, 3, 12, 12)).astype(np.float32), requires_grad=True)
w = mt.tensor(rng.standard_normal((8, 3, 3, 3)).astype(np.float32), requires_grad=True)
b = mt.tensor(rng.standard_normal(8).astype(np.float32), requires_grad=True)
g = rng.standard_normal((4, 8, 10, 10)).astype(np.float32)
F.conv2d(x, w, b).backward(g)       # warm: first calls import and compile nothing later
seen = set()
def profile(frame, event, arg):
    if event == "call" and frame.f_code.co_filename.startswith(root):
        seen.add((frame.f_code.co_filename, frame.f_code.co_firstlineno, frame.f_code.co_name))
sys.setprofile(profile)
F.conv2d(x, w, b).backward(g)
sys.setprofile(None)
print(json.dumps(sorted(seen)))
"""


def functions(path):
    """(name, first line, last line) of every function and method in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [(node.name, node.lineno, node.end_lineno) for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and hasattr(node, "name")]


def line_count(paths):
    return sum(len(p.read_text(encoding="utf-8").splitlines()) for p in paths)


def engine_files(package):
    names = ["tensor.py", "autograd.py"]
    files = [package / n for n in names if (package / n).exists()]
    for folder in ("ops", "core", "fast"):
        files += sorted((package / folder).glob("*.py")) if (package / folder).is_dir() else []
    return files


def learners_path(root):
    """The core/ files docs/README.md names, in its order."""
    readme = root / "docs" / "README.md"
    if not readme.exists():
        return []
    names = re.findall(r"minitorch_cnn/core/(\w+\.py)", readme.read_text(encoding="utf-8"))
    return [root / "minitorch_cnn" / "core" / n for n in dict.fromkeys(names)]


def longest_functions(package, top=10):
    found = []
    for path in package.rglob("*.py"):
        for name, first, last in functions(path):
            found.append((last - first + 1, f"{path.relative_to(package.parent)}:{first} {name}"))
    return sorted(found, reverse=True)[:top]


def module_name(path, package):
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package):
    modules = {module_name(p, package): p for p in package.rglob("*.py")}
    edges = {m: set() for m in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".")
                    base = base[:len(base) - node.level + (1 if is_package else 0)]
                    prefix = ".".join(base + ([node.module] if node.module else []))
                else:
                    prefix = node.module or ""
                # `from pkg import module` imports the module; `from module import name` the module
                targets = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in modules else prefix
                           for a in node.names]
            for target in targets:
                if target in modules and target != name:
                    edges[name].add(target)
    return edges


def circles(edges):
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, result, counter = {}, {}, set(), [], [], [0]

    def visit(start):
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        result.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return result


def conv_trace(root, fast):
    env = dict(os.environ, PYTHONPATH=str(root), MINITORCH_CNN_FAST="1" if fast else "0")
    done = subprocess.run([sys.executable, "-c", TRACE], env=env, capture_output=True, text=True,
                          cwd=root, check=True)
    seen = json.loads(done.stdout)
    spans = {}
    for filename, first, name in seen:
        path = Path(filename)
        ends = {f: last for _, f, last in functions(path)}
        spans[(filename, first)] = (name, ends.get(first, first) - first + 1)
    files = {f for f, _ in spans}
    in_core = {key: span for key, span in spans.items() if "/minitorch_cnn/core/" in key[0]}
    return {"definitions": len(spans), "lines": sum(n for _, n in spans.values()), "files": len(files),
            "file_names": sorted(str(Path(f).relative_to(root)) for f in files),
            # what a learner reads of that call: the part inside core/
            "core_definitions": len(in_core), "core_lines": sum(n for _, n in in_core.values()),
            "core_files": len({f for f, _ in in_core})}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--json")
    args = parser.parse_args()
    root = Path(args.root).resolve()
    package = root / "minitorch_cnn"
    engine, path = engine_files(package), learners_path(root)
    report = {
        "engine_core_lines": line_count(engine), "engine_core_files": len(engine),
        "package_lines": line_count(package.rglob("*.py")),
        "learners_path_lines": line_count(path) if path else None,
        "learners_path_files": [str(p.relative_to(root)) for p in path],
        "longest_functions": longest_functions(package),
        "import_circles": circles(import_graph(package)),
        "conv2d_fast": conv_trace(root, fast=True),
    }
    if (package / "backends" / "fast.py").exists():
        report["conv2d_core"] = conv_trace(root, fast=False)
    print(json.dumps(report, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
