"""The differentiable operations, one concept per module."""
