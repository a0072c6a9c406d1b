"""What a learner reads stays small (issue 20): the learner's path, the core/ files that
docs/README.md lists in reading order, is at most 1,200 lines with docstrings and comments,
and no function in core/ is longer than 30 lines."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "minitorch_cnn" / "core"
BUDGET_LINES, LONGEST_FUNCTION = 1200, 30


def learners_path():
    text = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    return [ROOT / p for p in dict.fromkeys(re.findall(r"minitorch_cnn/core/\w+\.py", text))]


def test_the_learners_path_is_listed_and_covers_the_engine():
    names = [p.name for p in learners_path()]
    assert names[:2] == ["tensor.py", "autograd.py"], names        # the reading order starts there
    for op in ("elementwise.py", "reduce.py", "shape.py", "linear.py", "conv.py", "pool.py", "norm.py",
               "dropout.py", "activation.py", "loss.py"):
        assert op in names, f"docs/README.md's reading order lacks core/{op}"
    assert all(p.exists() for p in learners_path())


def test_the_learners_path_is_at_most_1200_lines():
    lines = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in learners_path()}
    assert sum(lines.values()) <= BUDGET_LINES, lines
    assert all(n > 10 for n in lines.values()), lines      # the files are really there and whole


def test_no_function_in_core_is_longer_than_30_lines():
    long = []
    for path in sorted(CORE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > LONGEST_FUNCTION:
                    long.append(f"core/{path.name}:{node.lineno} {node.name} ({length} lines)")
    assert long == []


def test_core_holds_no_speed_tricks_or_kernels():
    """The core reaches no fast path, no CUDA launcher and no API helper."""
    for path in sorted(CORE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                assert not re.search(r"(^|\.)(fast|cuda|ops|nn|backends)(\.|$)", module), \
                    f"core/{path.name} imports {module}"
            if isinstance(node, ast.Name):
                assert node.id != "cuda_twin", f"core/{path.name} uses cuda_twin"


def test_the_readme_states_the_learners_path_as_it_is():
    """The README's claim ("small enough to read in an afternoon") names the path's real size."""
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    claim = re.search(r"is ([\d,]+) lines in (\d+) files", text)
    assert claim, "README.md should say how many lines the learner's path is"
    lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in learners_path())
    assert int(claim.group(1).replace(",", "")) == lines
    assert int(claim.group(2)) == len(learners_path())
