"""minitorch_cnn.plots: the three PNGs for every model, what each figure shows, and the edge cases."""
import os
import re

import numpy as np
import pytest

# Without matplotlib the package still imports: tests/test_optional_imports.py checks that.
matplotlib = pytest.importorskip("matplotlib", reason="needs matplotlib: draws plots (pip install \".[test]\")")
import matplotlib.image  # noqa: E402

import minitorch_cnn as mt  # noqa: E402
from minitorch_cnn import models, nn, plots  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MODELS = {"LeNet5": models.LeNet5, "SimpleCNN": models.SimpleCNN, "DigitCNN": models.DigitCNN,
          "DeepCNN": models.DeepCNN}
CONV_COUNT = {"LeNet5": 2, "SimpleCNN": 2, "DigitCNN": 2, "DeepCNN": 4}


def history_of(epochs):
    """Records as train.py writes them, with values that differ per epoch."""
    return [{"epoch": e, "train_loss": 2.0 / e, "train_acc": 0.5 + 0.04 * e, "test_loss": 1.5 / e,
             "test_acc": 0.55 + 0.04 * e, "seconds": 1.0, "images_per_s": 100.0, "lr": 1e-3}
            for e in range(1, epochs + 1)]


def digit_image(seed=0):
    return np.random.default_rng(seed).standard_normal((1, 28, 28)).astype(np.float32)


def line(ax, label):
    [found] = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return found


def assert_png(path):
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    # Not a blank canvas: something was drawn.
    assert pixels[..., :3].std() > 0.05


def all_hooks(model):
    return [h for m in model.modules() for h in m._forward_hooks.values()]


# ---- all three files, every model ----------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_three_valid_pngs_for_every_model(name, tmp_path):
    mt.manual_seed(0)
    model = MODELS[name]()
    paths = [plots.write_curves(history_of(3), str(tmp_path), f"{name} test run"),
             plots.write_filters(model, str(tmp_path)),
             plots.write_feature_maps(model, digit_image(), str(tmp_path), label=7)]
    assert [os.path.basename(p) for p in paths] == ["curves.png", "filters.png", "feature_maps.png"]
    for path in paths:
        assert os.path.dirname(path) == str(tmp_path)
        assert_png(path)
    # No temporary file is left next to them.
    assert sorted(os.listdir(tmp_path)) == ["curves.png", "feature_maps.png", "filters.png"]


# ---- curves ----------------------------------------------------------------------
@pytest.mark.parametrize("epochs", [1, 2, 3, 7, 40])
def test_epoch_ticks_are_whole_numbers(epochs):
    fig = plots._curves_figure(history_of(epochs), "t")
    for ax in fig.axes:
        low, high = ax.get_xlim()
        fig.canvas.draw()   # ticks are final only once drawn
        visible = [t for t in ax.get_xticks() if low <= t <= high]
        assert len(visible) >= 2
        assert all(float(t).is_integer() for t in visible), visible
        assert low <= 0.5 and high >= epochs      # every point is inside the frame


def test_training_points_at_epoch_midpoints_and_test_points_at_epoch_ends():
    history = history_of(4)
    ax_loss, ax_acc = plots._curves_figure(history, "t").axes
    ends = [1, 2, 3, 4]
    midpoints = [0.5, 1.5, 2.5, 3.5]
    np.testing.assert_array_equal(line(ax_loss, "train (epoch mean)").get_xdata(), midpoints)
    np.testing.assert_allclose(line(ax_loss, "train (epoch mean)").get_ydata(), [2.0, 1.0, 2 / 3, 0.5])
    np.testing.assert_array_equal(line(ax_loss, "test").get_xdata(), ends)
    np.testing.assert_allclose(line(ax_loss, "test").get_ydata(), [1.5, 0.75, 0.5, 0.375])
    np.testing.assert_array_equal(line(ax_acc, "train (epoch mean)").get_xdata(), midpoints)
    np.testing.assert_allclose(line(ax_acc, "train (epoch mean)").get_ydata(), [54, 58, 62, 66])
    [test_acc] = [ln for ln in ax_acc.get_lines() if ln.get_label().startswith("test")]
    np.testing.assert_array_equal(test_acc.get_xdata(), ends)
    np.testing.assert_allclose(test_acc.get_ydata(), [59, 63, 67, 71])


def test_curves_have_title_legends_and_grid():
    fig = plots._curves_figure(history_of(2), "DigitCNN on bundled-digits · adam lr 0.001")
    assert fig._suptitle.get_text() == "DigitCNN on bundled-digits · adam lr 0.001"
    for ax in fig.axes:
        assert ax.get_legend() is not None
        assert any(gl.get_visible() for gl in ax.get_xgridlines())
        assert ax.get_xlabel() == "epoch"


def test_one_epoch_curves(tmp_path):
    fig = plots._curves_figure(history_of(1), "t")
    ax_loss, _ = fig.axes
    assert list(line(ax_loss, "train (epoch mean)").get_xdata()) == [0.5]
    assert_png(plots.write_curves(history_of(1), str(tmp_path), "t"))


def test_batch_losses_drawn_raw_and_smoothed():
    # Alternating losses around a constant level: the raw line is drawn as given, the moving
    # average starts at the first value (bias-corrected, not pulled toward 0) and swings less.
    steps = 40
    batch_losses = [((i + 1) / 20, 1.0 if i % 2 else 3.0) for i in range(steps)]
    ax_loss, _ = plots._curves_figure(history_of(2), "t", batch_losses).axes
    raw, smooth = line(ax_loss, "train (per batch)"), line(ax_loss, "train (smoothed)")
    np.testing.assert_array_equal(raw.get_xdata(), [x for x, _ in batch_losses])
    np.testing.assert_array_equal(raw.get_ydata(), [y for _, y in batch_losses])
    np.testing.assert_array_equal(smooth.get_xdata(), raw.get_xdata())
    smoothed = np.asarray(smooth.get_ydata())
    assert smoothed[0] == pytest.approx(3.0)
    assert np.ptp(smoothed[steps // 2:]) < 0.5 * np.ptp([y for _, y in batch_losses])
    assert smoothed[-1] == pytest.approx(2.0, abs=0.5)


def test_constant_batch_losses_stay_constant_when_smoothed():
    batch_losses = [(i / 10, 0.7) for i in range(1, 31)]
    ax_loss, _ = plots._curves_figure(history_of(3), "t", batch_losses).axes
    np.testing.assert_allclose(line(ax_loss, "train (smoothed)").get_ydata(), 0.7, rtol=1e-12)


def test_empty_history_is_refused(tmp_path):
    with pytest.raises(ValueError, match="^write_curves: history is empty"):
        plots.write_curves([], str(tmp_path), "t")
    assert os.listdir(tmp_path) == []


def test_png_gets_the_permissions_of_an_ordinary_new_file(tmp_path):
    path = plots.write_curves(history_of(1), str(tmp_path), "t")
    with open(tmp_path / "plain", "wb"):
        pass
    assert os.stat(path).st_mode == os.stat(tmp_path / "plain").st_mode


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    from matplotlib.figure import Figure
    old = plots.write_curves(history_of(2), str(tmp_path), "t")
    before = open(old, "rb").read()

    def broken(self, *args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(OSError, match="disk full"):
        plots.write_curves(history_of(3), str(tmp_path), "t")
    assert os.listdir(tmp_path) == ["curves.png"]
    assert open(old, "rb").read() == before


# ---- filters ---------------------------------------------------------------------
def tile(grid, i, cols, height, width):
    """Picture i of a mosaic laid out cols per row with one-pixel gaps."""
    top, left = (i // cols) * (height + 1), (i % cols) * (width + 1)
    return np.asarray(grid)[top:top + height, left:left + width]


def picture_axes(fig):
    """The Axes holding an image (colour bars hold none)."""
    return [ax for ax in fig.axes if ax.get_images()]


def test_filters_share_one_symmetric_colour_range_with_a_colour_bar():
    model = models.DigitCNN()
    weights = np.zeros((16, 1, 3, 3), dtype=np.float32)
    weights[:, 0, 1, 1] = np.linspace(-0.25, 0.5, 16)
    weights[3, 0, 0, 0] = -0.8                       # the largest magnitude is negative
    model.conv1.weight.array[...] = weights
    fig = plots._filters_figure(model)
    [ax] = picture_axes(fig)
    [im] = ax.get_images()
    low, high = im.get_clim()
    assert low == -high and high == pytest.approx(0.8)
    assert "RdBu" in im.get_cmap().name
    assert im.colorbar is not None and im.colorbar.ax in fig.axes
    for i in range(16):
        np.testing.assert_allclose(tile(im.get_array(), i, 8, 3, 3), weights[i, 0], rtol=1e-7)
    assert np.ma.getmaskarray(im.get_array())[3, :].all()       # the gap row between the two rows
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "8"]
    title = fig._suptitle.get_text()
    assert "conv1" in title and "16 filters 3×3" in title and "mean over" not in title


def test_filters_average_over_input_channels_and_say_so():
    mt.manual_seed(1)
    model = models.SimpleCNN(in_channels=3)
    expected = model.conv1.weight.array.astype(np.float64).mean(axis=1)
    fig = plots._filters_figure(model)
    [im] = picture_axes(fig)[0].get_images()
    for i in range(32):
        np.testing.assert_allclose(tile(im.get_array(), i, 8, 3, 3), expected[i], rtol=1e-12)
    low, high = im.get_clim()
    assert low == -high and high == pytest.approx(np.abs(expected).max())
    assert "mean over 3 input channels" in fig._suptitle.get_text()


def test_filters_of_all_zero_weights_still_have_a_symmetric_range():
    model = models.DigitCNN()
    model.conv1.weight.array[...] = 0
    [im] = picture_axes(plots._filters_figure(model))[0].get_images()
    low, high = im.get_clim()
    assert low == -high and high > 0


# ---- feature maps ----------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_feature_maps_one_row_per_conv_layer(name):
    mt.manual_seed(0)
    model = MODELS[name]()
    convs = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == CONV_COUNT[name]
    image = digit_image()
    fig = plots._feature_maps_figure(model, image, label=3)
    input_row, *conv_rows = picture_axes(fig)
    assert len(conv_rows) == CONV_COUNT[name]
    np.testing.assert_allclose(input_row.get_images()[0].get_array(), image[0], rtol=1e-7)
    assert input_row.get_title(loc="left") == "input (1, 28, 28)"
    for row, (conv_name, conv) in zip(conv_rows, convs):
        title = row.get_title(loc="left")
        assert title.startswith(f"{conv_name} → ({conv.out_channels}, ")
        shown = min(conv.out_channels, 16)
        assert ("first 16 of" in title) == (conv.out_channels > 16)
        [im] = row.get_images()
        assert [t.get_text() for t in row.get_xticklabels()] == [str(c) for c in range(shown)]
        _, height, width = (int(n) for n in re.search(r"\((\d+), (\d+), (\d+)\)", title).groups())
        assert im.get_array().shape == (height, shown * (width + 1) - 1)
        low, high = im.get_clim()
        assert low == -high and im.colorbar is not None
    assert "true label 3" in fig._suptitle.get_text()
    # The first conv sees the image itself: its tiles are that conv's output, computed here directly.
    with mt.no_grad():
        expected = convs[0][1](mt.Tensor(image[None])).array[0]
    [first] = conv_rows[0].get_images()
    for c in range(min(convs[0][1].out_channels, 16)):
        np.testing.assert_allclose(tile(first.get_array(), c, 16, *expected.shape[1:]), expected[c],
                                   rtol=1e-6, atol=1e-6)


def test_feature_maps_are_the_conv_outputs_in_eval_mode():
    # DeepCNN has batch norm between its convs: in training mode a batch of one would be
    # normalised by its own statistics (and the running statistics would move).
    mt.manual_seed(0)
    model = models.DeepCNN()
    block0 = model.features[0]
    block0.bn.running_mean.array[...] = 0.3
    block0.bn.running_var.array[...] = 2.0
    running_mean = block0.bn.running_mean.array.copy()
    image = digit_image()
    captured = plots._conv_outputs(model, image)
    model.eval()
    with mt.no_grad():
        x = mt.Tensor(image[None])
        first = block0.conv(x)
        second = model.features[1].conv(block0(x))
    model.train()
    assert [n for n, _ in captured] == ["features.0.conv", "features.1.conv", "features.2.conv",
                                        "features.3.conv"]
    np.testing.assert_allclose(captured[0][1], first.array[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(captured[1][1], second.array[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(block0.bn.running_mean.array, running_mean)


def test_feature_maps_restore_training_flags_and_hooks(tmp_path):
    model = models.DigitCNN()
    model.train()
    model.dropout.eval()                              # one part frozen by the caller
    flags = {name: m.training for name, m in model.named_modules()}
    seen = []
    model.conv1.register_forward_hook(lambda module, inputs, output: seen.append(output.shape))
    plots.write_feature_maps(model, digit_image(), str(tmp_path))
    assert {name: m.training for name, m in model.named_modules()} == flags
    assert len(all_hooks(model)) == 1                 # the caller's own hook stays, ours are gone
    assert seen == [(1, 16, 28, 28)]
    assert mt.is_grad_enabled()                       # grad mode restored after no_grad()


def test_feature_maps_keep_an_eval_model_in_eval(tmp_path):
    model = models.SimpleCNN()
    model.eval()
    plots.write_feature_maps(model, digit_image(), str(tmp_path))
    assert not any(m.training for m in model.modules())
    assert all_hooks(model) == []


def test_feature_maps_restore_after_a_failing_forward(tmp_path):
    model = models.DigitCNN()
    model.train()
    wrong_channels = np.zeros((3, 28, 28), dtype=np.float32)
    with pytest.raises(Exception):
        plots.write_feature_maps(model, wrong_channels, str(tmp_path))
    assert all(m.training for m in model.modules())
    assert all_hooks(model) == []
    assert os.listdir(tmp_path) == []


def test_feature_maps_refuse_an_image_that_is_not_c_h_w(tmp_path):
    with pytest.raises(ValueError, match=r"^write_feature_maps: expected one image \(C, H, W\)"):
        plots.write_feature_maps(models.DigitCNN(), np.zeros((1, 1, 28, 28)), str(tmp_path))


def test_feature_maps_accept_a_tensor_image(tmp_path):
    image = digit_image()
    mt.manual_seed(0)
    model = models.DigitCNN()
    from_array = plots._conv_outputs(model, image)
    from_tensor = plots._conv_outputs(model, mt.Tensor(image))
    for (name_a, a), (name_t, t) in zip(from_array, from_tensor):
        assert name_a == name_t
        np.testing.assert_array_equal(a, t)


def test_feature_maps_without_label_have_no_label_in_title():
    fig = plots._feature_maps_figure(models.LeNet5(), digit_image())
    assert "label" not in fig._suptitle.get_text()


# ---- models without a conv layer -------------------------------------------------
def test_model_without_conv_is_refused_by_filters(tmp_path):
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    with pytest.raises(ValueError, match="^write_filters: Sequential has no Conv2d layer"):
        plots.write_filters(model, str(tmp_path))


def test_model_without_conv_is_refused_by_feature_maps(tmp_path):
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    with pytest.raises(ValueError, match="^write_feature_maps: Sequential has no Conv2d layer"):
        plots.write_feature_maps(model, digit_image(), str(tmp_path))
    assert os.listdir(tmp_path) == []
