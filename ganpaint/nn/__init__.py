"""ganpaint.nn: torch building blocks and architectures shared by several plugins.

Pure PyTorch; nothing is compiled at import or install time.
"""

from ganpaint.nn.norms import NormKind, conv_bias, norm_layer
from ganpaint.nn.patchgan import NLayerDiscriminator
from ganpaint.nn.resnet_generator import ResnetBlock, ResnetConfig, ResnetGenerator
from ganpaint.nn.unet_generator import UnetConfig, UnetGenerator, UnetSkipBlock

__all__ = [
    "NLayerDiscriminator",
    "NormKind",
    "ResnetBlock",
    "ResnetConfig",
    "ResnetGenerator",
    "UnetConfig",
    "UnetGenerator",
    "UnetSkipBlock",
    "conv_bias",
    "norm_layer",
]
