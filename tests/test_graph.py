"""mt.to_dot: the recorded graph as Graphviz DOT text (minitorch_cnn/graph.py); NumPy only.

The expected texts and structures are written by hand from the graph each test builds.  The
tests that run Graphviz's `dot` on the text skip when it is not installed.
"""
import doctest
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import graph, nn

REPO = Path(__file__).resolve().parent.parent
DOT = shutil.which("dot")
needs_dot = pytest.mark.skipif(DOT is None, reason="Graphviz's `dot` is not on PATH (apt-get install graphviz)")

NODE = re.compile(r'^  (n\d+) \[label="((?:[^"\\]|\\.)*)", (.*)\];$')
EDGE = re.compile(r"^  (n\d+) -> (n\d+)(?: \[weight=\d+\])?;$")


def parse(text):
    """({node: label with \\n as a newline}, [(source, target)]) from to_dot's text; every line must
    be a header line, a node or an edge."""
    lines = text.splitlines()
    assert lines[0] == "digraph autograd {" and lines[-1] == "}"
    nodes, edges = {}, []
    for line in lines[1:-1]:
        if line.startswith(("  rankdir=", "  node [", "  edge [")):
            continue
        node, edge = NODE.match(line), EDGE.match(line)
        assert node or edge, f"unexpected line {line!r}"
        if node:
            assert node.group(1) not in nodes, f"{node.group(1)} printed twice"
            nodes[node.group(1)] = node.group(2).replace("\\n", "\n")
        else:
            edges.append(edge.groups())
    return nodes, edges


def by_label(nodes):
    return {label: name for name, label in nodes.items()}


# ---- small graphs, checked against hand-written expectations ------------------------------

def test_two_ops_exact_text():
    w = mt.tensor([[1.0, 2.0]], requires_grad=True)
    x = mt.tensor([[3.0], [4.0]])
    text = mt.to_dot((w @ x).relu(), params={"w": w})
    assert text == (
        'digraph autograd {\n'
        '  rankdir=TB;\n'
        '  node [fontname="Helvetica", fontsize=10, height=0.3, margin="0.08,0.03"];\n'
        '  edge [arrowsize=0.6];\n'
        '  n0 [label="w\\n(1, 2)", shape=box, style=filled, fillcolor="#cfe2f3"];\n'
        '  n1 [label="input\\n(2, 1)", shape=box, style=filled, fillcolor="#eeeeee"];\n'
        '  n2 [label="MatMul\\n(1, 1)", shape=box, style="rounded,filled", fillcolor="#ffffff"];\n'
        '  n3 [label="ReLU\\n(1, 1)", shape=box, style="rounded,filled", fillcolor="#fde3c3"];\n'
        '  n0 -> n2;\n'
        '  n1 -> n2;\n'
        '  n2 -> n3 [weight=4];\n'
        '}\n')


def test_chain_nodes_labels_and_edge_directions():
    x = mt.ones(2, 3, requires_grad=True)
    y = x.exp().sum(dim=1).tanh()                  # x -> Exp -> Sum -> Tanh
    nodes, edges = parse(mt.to_dot(y))
    assert sorted(nodes.values()) == sorted(["input\n(2, 3)", "Exp\n(2, 3)", "Sum\n(2,)", "Tanh\n(2,)"])
    n = by_label(nodes)
    assert edges == [(n["input\n(2, 3)"], n["Exp\n(2, 3)"]), (n["Exp\n(2, 3)"], n["Sum\n(2,)"]),
                     (n["Sum\n(2,)"], n["Tanh\n(2,)"])]


def test_binary_op_edges_in_argument_order():
    a = mt.tensor([1.0, 2.0], requires_grad=True)
    b = mt.tensor([3.0, 4.0], requires_grad=True)
    nodes, edges = parse(mt.to_dot(a - b, params={"a": a, "b": b}))
    n = by_label(nodes)
    assert len(nodes) == 3
    assert edges == [(n["a\n(2,)"], n["Sub\n(2,)"]), (n["b\n(2,)"], n["Sub\n(2,)"])]


def test_every_edge_runs_from_an_earlier_node_to_a_later_one():
    # nodes are printed in data-flow order (inputs first), so edges point forward
    x = mt.randn(3, 4, requires_grad=True)
    w = mt.randn(4, 2, requires_grad=True)
    y = ((x @ w).relu() * 2 + (x @ w).sigmoid()).mean()
    nodes, edges = parse(mt.to_dot(y))
    number = {name: int(name[1:]) for name in nodes}
    assert sorted(number.values()) == list(range(len(nodes)))
    assert all(number[s] < number[t] for s, t in edges)
    root = f"n{len(nodes) - 1}"
    assert nodes[root] == "Mean\n()"
    assert not [e for e in edges if e[0] == root]


def test_shared_node_printed_once_with_every_edge():
    x = mt.tensor([0.5, 1.0], requires_grad=True)
    e = x.exp()
    y = e * e + e                                  # Exp feeds Mul twice and Add once
    nodes, edges = parse(mt.to_dot(y))
    assert sorted(nodes.values()) == ["Add\n(2,)", "Exp\n(2,)", "Mul\n(2,)", "input\n(2,)"]
    n = by_label(nodes)
    assert sorted(edges) == sorted([(n["input\n(2,)"], n["Exp\n(2,)"]),
                                    (n["Exp\n(2,)"], n["Mul\n(2,)"]), (n["Exp\n(2,)"], n["Mul\n(2,)"]),
                                    (n["Exp\n(2,)"], n["Add\n(2,)"]), (n["Mul\n(2,)"], n["Add\n(2,)"])])


def test_diamond_reached_by_two_paths_printed_once():
    x = mt.tensor([0.5, -1.0], requires_grad=True)
    a = x.exp()
    y = a.relu() + a.tanh()
    nodes, edges = parse(mt.to_dot(y))
    assert sorted(nodes.values()) == ["Add\n(2,)", "Exp\n(2,)", "ReLU\n(2,)", "Tanh\n(2,)", "input\n(2,)"]
    assert len(edges) == 5


def test_same_leaf_twice_is_one_node_with_two_edges():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    nodes, edges = parse(mt.to_dot(x * x, params={"x": x}))
    n = by_label(nodes)
    assert len(nodes) == 2
    assert edges == [(n["x\n(2,)"], n["Mul\n(2,)"])] * 2


def test_deep_chain_needs_no_recursion():
    x = mt.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(2000):           # deeper than Python's recursion limit (1000)
        y = y * 1.0
    nodes, edges = parse(mt.to_dot(y))
    assert len(nodes) == 2001 and len(edges) == 2000


def test_graph_after_an_in_place_op():
    # x.mul_(w) records Mul on x's old value (a leaf without a name now); y reads the new value
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    x = mt.tensor([3.0, 4.0])
    x.mul_(w)
    nodes, edges = parse(mt.to_dot(x + 1, params={"w": w}))
    n = by_label(nodes)
    assert sorted(nodes.values()) == ["Add\n(2,)", "Mul\n(2,)", "input\n(2,)", "w\n(2,)"]
    assert sorted(edges) == sorted([(n["input\n(2,)"], n["Mul\n(2,)"]), (n["w\n(2,)"], n["Mul\n(2,)"]),
                                    (n["Mul\n(2,)"], n["Add\n(2,)"])])


# ---- one-node graphs ------------------------------------------------------------------

def test_leaf_is_a_graph_of_one_node():
    w = mt.zeros(2, 3, requires_grad=True)
    nodes, edges = parse(mt.to_dot(w, params={"w": w}))
    assert nodes == {"n0": "w\n(2, 3)"} and edges == []
    assert 'fillcolor="#cfe2f3"' in mt.to_dot(w)         # a leaf that gets a gradient: blue


def test_tensor_without_graph_is_one_input_node():
    x = mt.tensor([[1, 2, 3]])                           # int64, requires_grad False
    text = mt.to_dot(x)
    nodes, edges = parse(text)
    assert nodes == {"n0": "input\n(1, 3) int64"} and edges == []
    assert 'fillcolor="#eeeeee"' in text


def test_result_computed_under_no_grad_has_no_graph():
    x = mt.ones(4, requires_grad=True)
    with mt.no_grad():
        y = x.exp()
    nodes, edges = parse(mt.to_dot(y))
    assert nodes == {"n0": "input\n(4,)"} and edges == []


def test_scalar_and_one_dim_shapes():
    x = mt.tensor(2.0, requires_grad=True)
    nodes, _ = parse(mt.to_dot(x * 3.0))
    assert sorted(nodes.values()) == ["Mul\n()", "input\n()"]


# ---- dtypes, names ----------------------------------------------------------------------

def test_dtype_shown_unless_float32():
    x = mt.ones(2, dtype=mt.float64, requires_grad=True)
    nodes, _ = parse(mt.to_dot(x.exp()))
    assert sorted(nodes.values()) == ["Exp\n(2,) float64", "input\n(2,) float64"]
    nodes, _ = parse(mt.to_dot(mt.ones(2, requires_grad=True).exp()))
    assert sorted(nodes.values()) == ["Exp\n(2,)", "input\n(2,)"]


def test_names_from_a_module():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = mt.ones(5, 3)
    nodes, edges = parse(mt.to_dot(model(x), params=model))
    assert sorted(nodes.values()) == sorted([
        "input\n(5, 3)", "0.weight\n(4, 3)", "0.bias\n(4,)", "Linear\n(5, 4)", "ReLU\n(5, 4)",
        "2.weight\n(2, 4)", "2.bias\n(2,)", "Linear\n(5, 2)"])
    assert len(edges) == 7


def test_names_from_named_parameters_like_torchviz():
    layer = nn.Conv2d(1, 2, kernel_size=3)
    out = layer(mt.ones(1, 1, 5, 5))
    nodes, _ = parse(mt.to_dot(out, params=dict(layer.named_parameters())))
    assert sorted(nodes.values()) == ["Conv2d\n(1, 2, 3, 3)", "bias\n(2,)", "input\n(1, 1, 5, 5)",
                                      "weight\n(2, 1, 3, 3)"]


class _Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("scale", mt.full((3,), 2.0))

    def forward(self, x):
        return x * self.scale


def test_module_buffers_are_named_too():
    model = nn.Sequential(_Scaled())
    x = mt.ones(3, requires_grad=True)
    nodes, _ = parse(mt.to_dot(model(x), params=model))
    assert sorted(nodes.values()) == ["0.scale\n(3,)", "Mul\n(3,)", "input\n(3,)"]


def test_data_leaves_can_be_named():
    layer = nn.Linear(3, 2)
    x, target = mt.ones(4, 3), mt.tensor([0, 1, 1, 0])
    loss = mt.nn.functional.cross_entropy(layer(x), target)
    names = dict(layer.named_parameters(), images=x, labels=target)
    nodes, edges = parse(mt.to_dot(loss, params=names))
    n = by_label(nodes)
    assert (n["labels\n(4,) int64"], n["CrossEntropy\n()"]) in edges
    assert (n["images\n(4, 3)"], n["Linear\n(4, 2)"]) in edges


def test_first_name_of_a_tensor_wins():
    w = mt.ones(2, requires_grad=True)
    nodes, _ = parse(mt.to_dot(w.exp(), params={"first": w, "second": w}))
    assert "first\n(2,)" in nodes.values()


def test_names_are_escaped():
    w = mt.ones(2, requires_grad=True)
    text = mt.to_dot(w.exp(), params={'say "hi"\\now\n': w})
    assert '[label="say \\"hi\\"\\\\now\\n\\n(2,)",' in text


def test_rankdir():
    text = mt.to_dot(mt.ones(2, requires_grad=True).exp(), rankdir="LR")
    assert "\n  rankdir=LR;\n" in text


# ---- determinism -------------------------------------------------------------------------

def _small_model_graph(seed):
    mt.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2, 3))
    loss = mt.nn.functional.cross_entropy(model(mt.randn(2, 1, 4, 4)), mt.tensor([0, 2]))
    return mt.to_dot(loss, params=model)


def test_same_graph_same_text():
    x = mt.ones(3, requires_grad=True)
    y = (x.exp() * x).sum()
    assert mt.to_dot(y) == mt.to_dot(y)
    # a graph built again (other objects, other ids, other values) prints the same text
    assert _small_model_graph(0) == _small_model_graph(1)


# ---- errors --------------------------------------------------------------------------------

@pytest.mark.parametrize("value, kind", [(np.ones(3), "ndarray"), (None, "NoneType"), (3.0, "float"),
                                         ([mt.ones(1)], "list")])
def test_not_a_tensor(value, kind):
    with pytest.raises(TypeError, match=rf"^to_dot: expected a Tensor, got {kind}$"):
        mt.to_dot(value)


@pytest.mark.parametrize("params, message", [
    ([mt.ones(1)], r"^to_dot: expected params to be a Module or a dict of name -> Tensor, got list$"),
    ("w", r"^to_dot: expected params to be a Module or a dict of name -> Tensor, got str$"),
    ({"w": np.ones(1)}, r"^to_dot: expected params\['w'\] to be a Tensor, got ndarray$"),
    ({0: mt.ones(1)}, r"^to_dot: expected params' names to be str, got int$"),
])
def test_bad_params(params, message):
    with pytest.raises(TypeError, match=message):
        mt.to_dot(mt.ones(1, requires_grad=True), params=params)


@pytest.mark.parametrize("rankdir", ["XY", "tb", None, 1])
def test_bad_rankdir(rankdir):
    with pytest.raises(ValueError, match=r"^to_dot: rankdir must be one of TB, LR, BT, RL, got "):
        mt.to_dot(mt.ones(1), rankdir=rankdir)


# ---- the docstring example, the script, Graphviz -------------------------------------------

def test_docstring_example_runs():
    result = doctest.testmod(graph, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def _draw_graph_script():
    spec = importlib.util.spec_from_file_location("draw_graph", REPO / "tools" / "draw_graph.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_lenet5_graph_is_what_the_script_draws():
    loss, names = _draw_graph_script().lenet5_loss_graph(8)
    text = mt.to_dot(loss, params=names)
    assert (REPO / "docs" / "graph_lenet5.dot").read_text() == text, \
        "docs/graph_lenet5.dot is stale: run python tools/draw_graph.py"
    nodes, edges = parse(text)
    assert len(nodes) == 25 and len(edges) == 24
    assert "conv1.weight\n(6, 1, 5, 5)" in nodes.values() and "CrossEntropy\n()" in nodes.values()


def _run_dot(text, fmt):
    return subprocess.run([DOT, f"-T{fmt}"], input=text, capture_output=True, text=True, timeout=60)


@needs_dot
@pytest.mark.parametrize("build", [
    lambda: mt.to_dot(mt.ones(2)),
    lambda: mt.to_dot(mt.ones(2, requires_grad=True).exp().sum(), rankdir="LR"),
    lambda: _small_model_graph(0),
    lambda: mt.to_dot(_draw_graph_script().lenet5_loss_graph(2)[0]),
], ids=["leaf", "chain", "small-model", "lenet5"])
def test_dot_accepts_the_text(build):
    done = _run_dot(build(), "svg")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.lstrip().startswith("<?xml")


@needs_dot
def test_dot_reads_escaped_names_as_one_label():
    w = mt.ones(2, requires_grad=True)
    hostile = 'w"]; n9 [label="evil\\'
    done = _run_dot(mt.to_dot(w.exp(), params={hostile: w}), "json")
    if done.returncode != 0 and "json" in done.stderr:
        pytest.skip(f"this Graphviz cannot write JSON: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    objects = json.loads(done.stdout)["objects"]
    # two nodes, and Graphviz's label is the name with its quote unescaped (backslash and \n kept
    # as DOT escapes)
    assert [o["name"] for o in objects] == ["n0", "n1"]
    assert objects[0]["label"] == 'w"]; n9 [label="evil\\\\\\n(2,)'


def test_script_without_dot_still_writes_the_dot_file(tmp_path, monkeypatch, capsys):
    script = _draw_graph_script()
    monkeypatch.setattr(script.shutil, "which", lambda name: None)
    assert script.main(["--out", str(tmp_path / "g"), "--batch-size", "2"]) == 1
    assert (tmp_path / "g.dot").read_text().startswith("digraph autograd {")
    assert not (tmp_path / "g.png").exists()
    assert "apt-get install graphviz" in capsys.readouterr().err


@needs_dot
def test_script_renders_a_png(tmp_path):
    done = subprocess.run([sys.executable, str(REPO / "tools" / "draw_graph.py"), "--out", str(tmp_path / "g"),
                           "--batch-size", "2", "--rankdir", "LR"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "rankdir=LR;" in (tmp_path / "g.dot").read_text()
