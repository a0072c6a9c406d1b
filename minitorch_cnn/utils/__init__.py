"""torch.utils's place in this engine: `minitorch_cnn.utils.data` is torch.utils.data."""
