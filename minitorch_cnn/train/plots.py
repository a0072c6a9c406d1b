"""--plot's pictures of a run: its curves, its first layer's filters, its feature maps."""
import numpy as np

from .. import Tensor, backend


def write_plots(args, history, batch_losses, model, test_set, data_name):
    """curves.png, filters.png and feature_maps.png (of the first test image) in args.out."""
    from .. import plots
    title = f"{type(model).__name__} on {data_name} · {args.optimizer} lr {args.lr:g}"
    image, label = (backend.to_numpy(v.array if isinstance(v, Tensor) else v) for v in test_set[0])
    return [plots.write_curves(history, args.out, title, batch_losses or None),
            plots.write_filters(model, args.out),
            plots.write_feature_maps(model, np.asarray(image), args.out, label=int(np.asarray(label)))]
