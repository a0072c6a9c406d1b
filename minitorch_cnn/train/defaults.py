"""The options a run is configured by (options.py parses them; schema.py checks a checkpoint's)."""

# The options a run is configured by, with their defaults.  An option left out on the command
# line is None after parsing, so --resume can tell "not given" (take the checkpoint's value)
# from "given" (must equal the checkpoint's value).
DEFAULTS = {"model": "lenet5", "dataset": "auto", "data_dir": None, "epochs": 3, "batch_size": 64,
            "lr": None, "optimizer": "adam", "momentum": 0.9, "weight_decay": 0.0, "step_size": 5,
            "gamma": 0.5, "device": "cpu", "seed": 0, "limit_train": None, "limit_test": None, "out": None,
            "core": False, "loss": None}
DEFAULT_LR = {"adam": 1e-3, "sgd": 0.01}
# What a resumed run may change: how long it runs, where it runs, and on which engine (--core:
# the same numbers but for rounding, as on another device; the run says so when it changes).
CHANGEABLE_ON_RESUME = ("epochs", "device", "out", "core")
