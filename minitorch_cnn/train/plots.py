"""--plot's pictures of a run: its curves, its first layer's filters, its feature maps, and for an
autoencoder its test images beside their reconstructions."""
import numpy as np

from .. import Tensor, backend
from .task import task_for


def write_plots(args, history, batch_losses, model, test_set, data_name):
    """curves.png, filters.png and feature_maps.png (of the first test image) in args.out; for an
    autoencoder (task.Reconstruction) also reconstructions.png, and curves of the loss alone."""
    from .. import plots
    task = task_for(model)
    title = f"{type(model).__name__} on {data_name} · {args.optimizer} lr {args.lr:g}"
    image, label = (backend.to_numpy(v.array if isinstance(v, Tensor) else v) for v in test_set[0])
    named = {} if task.accuracy else {"loss_label": task.loss_name}     # cross-entropy: the default
    paths = [plots.write_curves(history, args.out, title, batch_losses or None, **named),
             plots.write_filters(model, args.out),
             plots.write_feature_maps(model, np.asarray(image), args.out, label=int(np.asarray(label)))]
    if not task.accuracy:
        paths.append(plots.write_reconstructions(*task.pictures(test_set), args.out,
                                                 title=f"{title}: test images and their reconstructions"))
    return paths
