"""StyleGAN latent tools the style-mixing and face plugins share: sampling tools, inversion, encoders, slider directions from labels, seed thumbnails of StyleGAN tools."""
