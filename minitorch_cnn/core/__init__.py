"""The learner's engine: Tensor, autograd and the CNN operations, written as docs/ derives them.

Read in this order (docs/README.md gives the same list): tensor.py, autograd.py, then the
operations.  versions.py and hooks.py hold what autograd calls at its marked points.
"""
