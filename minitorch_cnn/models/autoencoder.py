"""A convolutional autoencoder: strided convolutions down, transposed convolutions up.

The decoder's ConvTranspose2d layers are the adjoints of convolutions of the same shape
(docs/12_conv_transpose.md): each stride-2 one doubles the height and width back.
"""
from .. import nn
from ..nn import functional as F

LOSSES = ("bce", "mse")


class ConvAutoencoder(nn.Module):
    """encoder: conv 3×3 stride 2 pad 1 (channels[0]) → relu → conv 3×3 stride 2 pad 1
    (channels[1]) → relu;  decoder: ConvTranspose2d 3×3 stride 2 pad 1 output_padding 1
    (channels[0]) → relu → ConvTranspose2d back to in_channels.  28×28 → 7×7 → 28×28
    (32×32 → 8×8 → 32×32): a height and width divisible by 4 come back as they were (others
    come back rounded up to a multiple of 4, as in torch: 30×30 → 8×8 → 32×32).

    The output is logits of the input's shape.  `loss` names the reconstruction loss against
    the input (`reconstruction_loss`): "bce" (binary cross-entropy with logits: targets in
    [0, 1], the reconstruction is sigmoid(logits)) or "mse" (mean squared error: any scale,
    e.g. normalised images; the reconstruction is the output itself).  `num_classes` is
    accepted, and ignored, so every model builds from the same arguments."""

    def __init__(self, num_classes=None, in_channels=1, channels=(16, 32), loss="mse"):
        super().__init__()
        if loss not in LOSSES:
            raise ValueError(f"ConvAutoencoder: loss must be one of {', '.join(LOSSES)}, got {loss!r}")
        self.loss = loss
        c1, c2 = channels
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.ReLU())
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(c2, c1, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(c1, in_channels, 3, stride=2, padding=1, output_padding=1))

    def forward(self, x):
        return self.decoder(self.encoder(x))

    def reconstruction_loss(self, output, target):
        """The mean reconstruction loss of logits `output` against the input `target`."""
        if self.loss == "bce":
            return F.binary_cross_entropy_with_logits(output, target)
        return F.mse_loss(output, target)

    def reconstruction(self, output):
        """The reconstructed images of logits `output`: sigmoid for "bce", as they are for "mse"."""
        return F.sigmoid(output) if self.loss == "bce" else output
