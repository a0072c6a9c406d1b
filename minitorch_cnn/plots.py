"""Pictures of a training run: loss/accuracy curves, the first conv layer's filters, the
feature maps of one image, and (an autoencoder's) test images beside their reconstructions.  Each write_* function saves one PNG atomically and returns its path.

matplotlib is imported inside the functions, so the package imports without it; figures are
built with matplotlib.figure.Figure and the Agg canvas, never pyplot, so no global backend or
open-figure state is touched (safe in threads, notebooks and test runs)."""
import os

import numpy as np

from . import backend
from .serialization import atomic_write

MAX_CHANNELS_SHOWN = 16   # feature maps per conv layer; more would make unreadable specks


# ---- shared helpers -------------------------------------------------------------
def _new_figure(**kwargs):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(layout="constrained", **kwargs)
    FigureCanvasAgg(fig)
    return fig


def _save_atomically(fig, out, filename):
    """out/filename as a PNG, written atomically: a reader never sees half a picture."""
    return atomic_write(os.path.join(out, filename), lambda f: fig.savefig(f, format="png", dpi=100))


def _conv_layers(model, caller):
    """(name, module) of every Conv2d in registration order; a model without one is an error."""
    convs = [(name, m) for name, m in model.named_modules() if type(m).__name__ == "Conv2d"]
    if not convs:
        raise ValueError(f"{caller}: {type(model).__name__} has no Conv2d layer")
    return convs


def _symmetric_limit(array):
    """m = max |value|, so vmin=-m, vmax=m puts zero at the colour map's neutral middle."""
    m = float(np.max(np.abs(array))) if array.size else 0.0
    return m if m > 0 and np.isfinite(m) else 1.0


# ---- 1. curves ------------------------------------------------------------------
def _ema(values, beta):
    """Bias-corrected exponential moving average (early points are not dragged toward 0)."""
    smoothed, running = [], 0.0
    for i, v in enumerate(values, start=1):
        running = beta * running + (1 - beta) * v
        smoothed.append(running / (1 - beta ** i))
    return smoothed


def _curves_figure(history, title, batch_losses=None, loss_label="cross-entropy"):
    from matplotlib.ticker import MaxNLocator
    if not history:
        raise ValueError("write_curves: history is empty (no finished epoch to plot)")
    epochs = np.array([r["epoch"] for r in history], dtype=float)
    # Training metrics are averages over an epoch, so they belong at its middle; test metrics
    # are measured once the epoch is over, so they belong at its end.
    mid = epochs - 0.5
    # An autoencoder's records hold no accuracy (None): its figure is the loss alone.
    with_accuracy = all(r.get("train_acc") is not None and r.get("test_acc") is not None for r in history)
    fig = _new_figure(figsize=(11, 4.2) if with_accuracy else (6, 4.2))
    axes = fig.subplots(1, 2 if with_accuracy else 1, squeeze=False)[0]
    ax_loss = axes[0]
    if batch_losses:
        x, y = zip(*batch_losses)
        # Roughly a tenth of an epoch's worth of batches, but never so long that it lags badly.
        window = min(50.0, max(1.0, len(y) / (10 * len(epochs))))
        ax_loss.plot(x, y, color="tab:blue", alpha=0.25, lw=0.8, label="train (per batch)")
        ax_loss.plot(x, _ema(y, 1 - 1 / window), color="tab:blue", lw=1.5, label="train (smoothed)")
    # With per-batch lines the epoch means are markers only; without, a line joins them as in "accuracy".
    ax_loss.plot(mid, [r["train_loss"] for r in history], "o" if batch_losses else "o-", color="tab:blue",
                 mec="white", ms=7, label="train (epoch mean)", zorder=3)
    ax_loss.plot(epochs, [r["test_loss"] for r in history], "s-", color="tab:orange", label="test", zorder=3)
    ax_loss.set(xlabel="epoch", ylabel=loss_label, title="loss")
    if with_accuracy:
        ax_acc = axes[1]
        ax_acc.plot(mid, [100 * r["train_acc"] for r in history], "o-", color="tab:blue",
                    label="train (epoch mean)")
        ax_acc.plot(epochs, [100 * r["test_acc"] for r in history], "s-", color="tab:orange",
                    label=f"test (last {100 * history[-1]['test_acc']:.2f}%)")
        ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    first, last = epochs.min() - 1, epochs.max()
    pad = max(0.1, 0.03 * (last - first))    # room for the markers at both ends
    for ax in axes:
        ax.set_xlim(first - pad, last + pad)
        # Epochs are whole numbers; MaxNLocator alone would label 0.5 steps for 1-2 epochs.
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return fig


def write_curves(history, out, title, batch_losses=None, loss_label="cross-entropy"):
    """out/curves.png: loss and accuracy per epoch.  history: the records minitorch_cnn/train keeps
    (epoch, train_loss, train_acc, test_loss, test_acc, ...); batch_losses: optional
    (fractional_epoch, loss) pairs, drawn faintly with a smoothed line on top.  Records whose
    accuracies are None (an autoencoder's) give the loss alone; loss_label names it on the y axis."""
    return _save_atomically(_curves_figure(history, title, batch_losses, loss_label), out, "curves.png")


# ---- 2. filters -----------------------------------------------------------------
def _mosaic(pictures, cols, gap=np.nan):
    """Tile (N, H, W) pictures (or (N, H, W, 3) colour ones) into one array, cols per row,
    separated by one NaN pixel (drawn blank; `gap` for colour, where NaN is not blank).  One
    image per grid instead of one Axes per picture: dozens of Axes take seconds to lay out and
    save, one image takes milliseconds."""
    count, height, width = pictures.shape[:3]
    rows = -(-count // cols)
    grid = np.full((rows * (height + 1) - 1, cols * (width + 1) - 1) + pictures.shape[3:], gap)
    for i, picture in enumerate(pictures):
        top, left = (i // cols) * (height + 1), (i % cols) * (width + 1)
        grid[top:top + height, left:left + width] = picture
    return grid


def _label_tiles(ax, height, width, rows, cols):
    """Ticks at tile centres: column index along x, first index of each row along y."""
    ax.set_xticks([c * (width + 1) + (width - 1) / 2 for c in range(cols)], [str(c) for c in range(cols)])
    ax.set_yticks([r * (height + 1) + (height - 1) / 2 for r in range(rows)],
                  [str(r * cols) for r in range(rows)])
    ax.tick_params(length=0, labelsize=8)
    for spine in ax.spines.values():
        spine.set_visible(False)


def _diverging_cmap():
    from matplotlib import colormaps
    return colormaps["RdBu_r"].with_extremes(bad="white")    # white: the NaN gaps between tiles


def _filters_figure(model):
    name, conv = _conv_layers(model, "write_filters")[0]
    weights = backend.to_numpy(conv.weight.array).astype(np.float64)   # (out, in, kh, kw)
    count, in_channels, kh, kw = weights.shape
    # One picture per filter: several input channels are averaged, and the title says so.
    shown = weights.mean(axis=1)
    m = _symmetric_limit(shown)
    cols = min(count, 8)
    rows = -(-count // cols)
    fig = _new_figure(figsize=(0.9 * cols + 2.0, 0.9 * rows + 1.0))
    ax = fig.subplots()
    image = ax.imshow(_mosaic(shown, cols), cmap=_diverging_cmap(), vmin=-m, vmax=m, interpolation="nearest")
    _label_tiles(ax, kh, kw, rows, cols)
    ax.set(xlabel="filter index = row label + column label")
    fig.colorbar(image, ax=ax, shrink=0.8, label="weight")
    averaged = f", mean over {in_channels} input channels" if in_channels > 1 else ""
    fig.suptitle(f"{type(model).__name__} · {name}: {count} filters {kh}×{kw}{averaged}")
    return fig


def write_filters(model, out):
    """out/filters.png: the first Conv2d's filters on one symmetric red-blue scale
    (red positive, blue negative, white zero), with a colour bar."""
    return _save_atomically(_filters_figure(model), out, "filters.png")


# ---- 3. feature maps ------------------------------------------------------------
def _as_image(image):
    """A (C, H, W) NumPy array from an array (NumPy or CuPy) or a Tensor."""
    from .tensor import Tensor
    image = np.asarray(backend.to_numpy(image.array if isinstance(image, Tensor) else image))
    if image.ndim != 3:
        raise ValueError(f"write_feature_maps: expected one image (C, H, W), got shape {image.shape}")
    return image


def _conv_outputs(model, image):
    """Run one image through the model in eval mode without autograd; returns
    [(layer name, (C, H, W) array)] for every Conv2d, in the order they ran."""
    from . import no_grad
    from .tensor import Tensor
    convs = _conv_layers(model, "write_feature_maps")
    image = _as_image(image)
    weight = convs[0][1].weight.array
    batch = Tensor(backend.to_device(image[None].astype(weight.dtype), backend.device_of(weight)))
    captured = []
    names = {id(m): name for name, m in convs}

    def keep(module, inputs, output):
        captured.append((names[id(module)], backend.to_numpy(output.array)[0]))

    # Each module's own flag, not just the root's: a caller may have frozen parts in eval mode.
    modes = [(m, m.training) for m in model.modules()]
    handles = [m.register_forward_hook(keep) for _, m in convs]
    try:
        model.eval()
        with no_grad():
            model(batch)
    finally:
        for handle in handles:
            handle.remove()
        for m, mode in modes:
            m.training = mode
    return captured


def _show_input(ax, image):
    channels = image.shape[0]
    if channels == 3:
        rgb = np.transpose(image, (1, 2, 0))
        low, high = rgb.min(), rgb.max()
        ax.imshow((rgb - low) / (high - low) if high > low else np.zeros_like(rgb), interpolation="nearest")
    else:
        ax.imshow(image.mean(axis=0), cmap="gray", interpolation="nearest")
    ax.set_axis_off()


def _feature_maps_figure(model, image, label=None):
    maps = _conv_outputs(model, image)
    image = _as_image(image).astype(np.float64)
    # One row (an Axes) per conv layer under the input, each with a title naming the layer.
    fig = _new_figure(figsize=(13, 1.35 * (len(maps) + 1) + 0.3))
    axes = fig.subplots(len(maps) + 1, 1, squeeze=False)[:, 0]
    for ax in axes:
        ax.set_anchor("W")     # rows of different widths line up on the left, under the input
    _show_input(axes[0], image)
    axes[0].set_title(f"input {tuple(image.shape)}", fontsize=10, loc="left")
    for ax, (name, out) in zip(axes[1:], maps):
        shown = min(out.shape[0], MAX_CHANNELS_SHOWN)
        # One symmetric scale per layer: conv outputs (before any ReLU) have a sign, and the
        # channels of one layer stay comparable.
        m = _symmetric_limit(out[:shown])
        picture = ax.imshow(_mosaic(out[:shown], shown), cmap=_diverging_cmap(), vmin=-m, vmax=m,
                            interpolation="nearest")
        _label_tiles(ax, out.shape[1], out.shape[2], 1, shown)
        ax.set_yticks([])
        fig.colorbar(picture, ax=ax, shrink=0.9, aspect=8, pad=0.01, panchor=False)   # keep the row left-aligned
        more = f", first {shown} of {out.shape[0]} channels" if shown < out.shape[0] else ""
        ax.set_title(f"{name} → {tuple(out.shape)}{more}", fontsize=10, loc="left")
    axes[-1].set_xlabel("channel", fontsize=9)
    truth = f" (true label {label})" if label is not None else ""
    fig.suptitle(f"{type(model).__name__}: conv feature maps of one test image{truth}")
    return fig


def write_feature_maps(model, image, out, label=None):
    """out/feature_maps.png: one test image (a (C, H, W) array) and the output of every
    Conv2d for it, one row per layer.  The model's training flags and hooks are restored."""
    return _save_atomically(_feature_maps_figure(model, image, label), out, "feature_maps.png")


# ---- 4. reconstructions ---------------------------------------------------------
def _reconstructions_figure(images, reconstructions, title):
    """Rows of up to 8 images, each row of inputs above the row of their reconstructions, all on
    one scale (the inputs' range: a reconstruction beyond it is clipped, not rescaled)."""
    images, reconstructions = (np.asarray(a, dtype=np.float64) for a in (images, reconstructions))
    if images.ndim != 4 or images.shape != reconstructions.shape or not len(images):
        raise ValueError(f"write_reconstructions: expected images and reconstructions (N, C, H, W) of one "
                         f"shape, N >= 1, got {images.shape} and {reconstructions.shape}")
    count, channels, height, width = images.shape
    cols = min(count, 8)
    low, high = float(np.nanmin(images)), float(np.nanmax(images))
    high = high if high > low else low + 1.0
    rows = []
    for start in range(0, count, cols):     # inputs, then their reconstructions, a row each (padded blank)
        for batch in (images, reconstructions):
            row = np.full((cols,) + images.shape[1:], np.nan)
            row[:len(batch[start:start + cols])] = batch[start:start + cols]
            rows.append(row)
    pictures = np.concatenate(rows)
    fig = _new_figure(figsize=(0.9 * cols + 1.6, 0.95 * len(rows) + 0.8))
    ax = fig.subplots()
    if channels == 3:       # colour, scaled to [0, 1] on the inputs' range; white gaps
        rgb = np.clip((np.transpose(pictures, (0, 2, 3, 1)) - low) / (high - low), 0, 1)
        ax.imshow(_mosaic(np.nan_to_num(rgb, nan=1.0), cols, gap=1.0), interpolation="nearest")
    else:                   # grey (several channels: their mean); NaN gaps drawn white
        from matplotlib import colormaps
        ax.imshow(_mosaic(pictures.mean(axis=1), cols), cmap=colormaps["gray"].with_extremes(bad="white"),
                  vmin=low, vmax=high, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([r * (height + 1) + (height - 1) / 2 for r in range(len(rows))],
                  ["input" if r % 2 == 0 else "reconstruction" for r in range(len(rows))])
    ax.tick_params(length=0, labelsize=8)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.suptitle(title)
    return fig


def write_reconstructions(images, reconstructions, out, title="test images and their reconstructions"):
    """out/reconstructions.png: (N, C, H, W) images, each above its reconstruction (an autoencoder's
    output for it, of the same shape), on the inputs' grey scale (colour for 3 channels)."""
    return _save_atomically(_reconstructions_figure(images, reconstructions, title), out, "reconstructions.png")


__all__ = ["write_curves", "write_feature_maps", "write_filters", "write_reconstructions"]
