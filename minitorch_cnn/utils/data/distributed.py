"""torch.utils.data.distributed: DistributedSampler."""
from ...data.distributed import DistributedSampler

__all__ = ["DistributedSampler"]
