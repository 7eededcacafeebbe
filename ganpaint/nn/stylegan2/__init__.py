"""StyleGAN2 in pure PyTorch: generator, residual discriminator, DiffAugment.

Key layout of rosinality's stylegan2-pytorch (``g_ema`` state dicts load unchanged, plus our
``latent_avg`` buffer). The model store knows the generator as architecture ``"stylegan2"``
(config = ``StyleGAN2Config.to_dict()``); sampling helpers are in
``ganpaint.nn.stylegan_sampling``.
"""

from ganpaint.nn.stylegan2.diffaugment import POLICIES, diff_augment
from ganpaint.nn.stylegan2.discriminator import Discriminator
from ganpaint.nn.stylegan2.generator import (
    Generator,
    StyleGAN2Config,
    build_generator,
    resolutions,
    standard_widths,
)
from ganpaint.nn.stylegan2.mapping import MappingNetwork, PixelNorm
from ganpaint.nn.stylegan2.modulated_conv import ModulatedConv2d, StyledConv, ToRGB
from ganpaint.nn.stylegan2.ops import fused_leaky_relu, upfirdn2d

__all__ = [
    "POLICIES",
    "Discriminator",
    "Generator",
    "MappingNetwork",
    "ModulatedConv2d",
    "PixelNorm",
    "StyleGAN2Config",
    "StyledConv",
    "ToRGB",
    "build_generator",
    "diff_augment",
    "fused_leaky_relu",
    "resolutions",
    "standard_widths",
    "upfirdn2d",
]
