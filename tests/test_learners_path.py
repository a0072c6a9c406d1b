"""What a learner reads stays small (issue 20): the learner's path, the core/ files that
docs/README.md lists in reading order, is at most 1,200 lines with docstrings and comments,
and no function in core/ is longer than 30 lines.  The toolbox (issue 23: the core files
docs/README.md lists past the path) is counted apart, with a budget of its own."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "minitorch_cnn" / "core"
BUDGET_LINES, LONGEST_FUNCTION = 1200, 30
TOOLBOX_BUDGET_LINES = 800
TOOLBOX_HEADING = "## Past the path: the toolbox"


def _listed(part):
    text = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    assert TOOLBOX_HEADING in text, f"docs/README.md lacks its {TOOLBOX_HEADING!r} section"
    path_text, toolbox_text = text.split(TOOLBOX_HEADING, 1)
    toolbox_text = toolbox_text.split("\n## ", 1)[0]
    text = path_text if part == "path" else toolbox_text
    return [ROOT / p for p in dict.fromkeys(re.findall(r"minitorch_cnn/core/\w+\.py", text))]


def learners_path():
    return _listed("path")


def toolbox():
    return _listed("toolbox")


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


def test_the_toolbox_is_listed_apart_and_has_a_budget_of_its_own():
    path, tools = set(learners_path()), toolbox()
    assert tools and not path & set(tools), "the toolbox's files must not be in the reading order"
    for name in ("fold.py", "conv_transpose.py", "norm_axes.py", "resample.py", "unpool.py",
                 "activation_extra.py", "loss_extra.py"):
        assert CORE / name in tools, f"docs/README.md's toolbox lacks core/{name}"
    lines = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in tools}
    assert sum(lines.values()) <= TOOLBOX_BUDGET_LINES, lines
    listed = path | set(tools)
    unlisted = [p.name for p in CORE.glob("*.py") if p not in listed and p.name not in
                ("__init__.py", "versions.py", "hooks.py")]
    assert unlisted == [], f"core files in neither list of docs/README.md: {unlisted}"


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
