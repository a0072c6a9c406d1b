"""mt.summary: per-layer output shapes, parameters, receptive fields and im2col bytes."""
import io

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import models
from minitorch_cnn.summary import main, summary_rows

import _torch_helpers as th
from _torch_helpers import torch_single_thread  # noqa: F401 (an autouse fixture)
from _optional import needs_torch, torch  # torch is None without it: @needs_torch tests skip


def test_digitcnn_summary_reports_206922_parameters_and_a_10x10_field_after_pool2():
    out = io.StringIO()
    total = mt.summary(models.DigitCNN(), (1, 28, 28), file=out)
    text = out.getvalue()
    assert total == 206_922
    assert "206,922" in text
    (pool2,) = [line for line in text.splitlines() if line.startswith("pool2")]
    assert "10×10" in pool2 and "(64, 32, 7, 7)" in pool2


def test_summary_rows_receptive_fields_and_im2col_bytes():
    rows = {row[0]: row[1:] for row in summary_rows(models.DigitCNN(), (1, 28, 28), batch_size=64)}
    # name -> (type, output shape, params, receptive field, im2col bytes)
    assert [r[3] for r in rows.values()] == ["3×3", "4×4", "8×8", "10×10", "image", "image", "image"]
    assert rows["conv1"] == ("Conv2d", (64, 16, 28, 28), 160, "3×3", 64 * 28 * 28 * 1 * 9 * 4)
    assert rows["conv2"][4] == 64 * 14 * 14 * 16 * 9 * 4
    assert rows["pool2"][4] == 0 and rows["fc1"][2] == 32 * 7 * 7 * 128 + 128
    lenet = [row[4] for row in summary_rows(models.LeNet5(), (1, 28, 28), batch_size=2)]
    assert lenet[:4] == ["5×5", "6×6", "14×14", "16×16"]


@needs_torch
@pytest.mark.parametrize("name", list(models.MODELS))
def test_summary_shapes_and_parameters_match_torch_leaf_by_leaf(name):
    """Output shape and parameter count of every leaf layer, in call order, as torch's twin reports them."""
    t_model, seen = th.torch_model(name).eval(), []
    leaves = [(n, m) for n, m in t_model.named_modules() if not list(m.children())]
    for leaf_name, leaf in leaves:
        leaf.register_forward_hook(lambda m, i, o, n=leaf_name: seen.append(
            (n, type(m).__name__, tuple(o.shape), sum(p.numel() for p in m.parameters()))))
    with torch.no_grad():
        t_model(torch.zeros(3, 1, 28, 28))
    rows = summary_rows(models.get_model(name), (1, 28, 28), batch_size=3)
    assert [(n, t, s, p) for n, t, s, p, _, _ in rows] == seen


def test_summary_leaves_the_model_as_it_was():
    model = models.DeepCNN().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}   # a copy: the values share memory
    mt.summary(model, file=io.StringIO())
    assert all(m.training for m in model.modules())
    assert all(not m._forward_hooks for m in model.modules())
    after = model.state_dict()
    for key in before:                 # BatchNorm ran in eval mode: running statistics untouched
        np.testing.assert_array_equal(before[key], after[key], err_msg=key)
    model.eval()
    mt.summary(model, file=io.StringIO())
    assert not any(m.training for m in model.modules())


def test_summary_cli_in_process(capsys):
    main(["--model", "digitcnn"])
    out = capsys.readouterr().out
    assert "DigitCNN" in out and "206,922" in out and "10×10" in out
    main(["--model", "lenet5", "--batch-size", "8"])
    out = capsys.readouterr().out
    assert "61,706" in out and "(8, 6, 28, 28)" in out


def test_summary_cli_rejects_an_unknown_model(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--model", "vgg16"])
    assert info.value.code == 2 and "vgg16" in capsys.readouterr().err


def _summary_cli(shell_tail=""):
    import os
    import subprocess
    import sys
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=repo + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(["bash", "-c", f"{sys.executable} -m minitorch_cnn.summary {shell_tail}"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=120)


def test_summary_cli_with_a_shape_the_model_does_not_take_is_one_error_line():
    done = _summary_cli("--input-shape 3 32 32")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "--input-shape 3 32 32" in errors[0]


def test_summary_cli_into_a_closed_pipe_is_quiet():
    """`| true` closes the pipe before the table is written (Python takes longer to start than
    `true` to exit): the write meets a broken pipe, which must end quietly with status 0."""
    done = _summary_cli("| true; exit ${PIPESTATUS[0]}")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    done = _summary_cli("| head -1")
    assert done.stdout.startswith("DigitCNN") and len(done.stdout.splitlines()) == 1
    assert "Traceback" not in done.stderr, done.stderr
