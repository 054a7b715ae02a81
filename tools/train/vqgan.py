"""Small VQGAN: the official (MaskGIT / taming lineage) decoder exactly as the Swift engine runs
it (../shared/spec/enat-model.md, "VQGAN decoder"), a matching encoder, and a vector quantizer;
and the released tokenizer's encoder and quantizer (`ReleasedEncoder`, `nearest_codes`) exactly as
the Swift `VQGANEncoder` runs them.

Keys the bundle keeps: `decoder.*` and `quantize.embedding.weight` (embed_dim == z_channels, no
post_quant_conv). Decoder details that the weights depend on: GroupNorm(32, eps 1e-6), swish,
residual blocks whose shortcut, when the channel count changes, is `nin_shortcut(h) + h` (applied
to h, not x), nearest x2 upsampling followed by a 3x3 conv, no attention.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class VQGANConfig:
    ch: int = 32
    ch_mult: list = field(default_factory=lambda: [1, 1, 2, 4])
    num_res_blocks: int = 1
    z_channels: int = 32
    embed_dim: int = 32
    n_embed: int = 128
    out_ch: int = 3
    resolution: int = 64

    def to_dict(self) -> dict:
        return asdict(self)


def norm(c):
    return nn.GroupNorm(32, c, eps=1e-6, affine=True)


class ResBlock(nn.Module):
    """`h = conv2(swish(norm2(conv1(swish(norm1(x))))))` (convs without bias); shortcut as the
    released decoder (`nin_shortcut(h) + h` when channels change) or, for the encoder, the usual
    `nin_shortcut(x) + h`."""

    def __init__(self, cin, cout, quirk: bool):
        super().__init__()
        self.quirk = quirk
        self.norm1 = norm(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.norm2 = norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        if cin != cout:
            self.nin_shortcut = nn.Conv2d(cout if quirk else cin, cout, 1, bias=False)

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        if x.shape[1] != h.shape[1]:
            return self.nin_shortcut(h if self.quirk else x) + h
        return x + h


class Mid(nn.Module):
    def __init__(self, c, quirk):
        super().__init__()
        self.block_1 = ResBlock(c, c, quirk)
        self.block_2 = ResBlock(c, c, quirk)


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Downsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=0)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Decoder(nn.Module):
    def __init__(self, c: VQGANConfig):
        super().__init__()
        self.c = c
        block_in = c.ch * c.ch_mult[-1]
        self.conv_in = nn.Conv2d(c.z_channels, block_in, 3, padding=1)
        self.mid = Mid(block_in, quirk=True)
        up = []
        for i in reversed(range(len(c.ch_mult))):
            level = nn.Module()
            blocks = []
            for _ in range(c.num_res_blocks):
                blocks.append(ResBlock(block_in, c.ch * c.ch_mult[i], quirk=True))
                block_in = c.ch * c.ch_mult[i]
            level.block = nn.ModuleList(blocks)
            if i != 0:
                level.upsample = Upsample(block_in)
            up.insert(0, level)
        self.up = nn.ModuleList(up)  # index i = level i, as the official keys `up.i.*`
        self.norm_out = norm(block_in)
        self.conv_out = nn.Conv2d(block_in, c.out_ch, 3, padding=1)

    def forward(self, z):
        x = self.conv_in(z)
        x = self.mid.block_2(self.mid.block_1(x))
        for i in reversed(range(len(self.c.ch_mult))):
            for blk in self.up[i].block:
                x = blk(x)
            if i != 0:
                x = self.up[i].upsample(x)
        return self.conv_out(F.silu(self.norm_out(x)))


class Encoder(nn.Module):
    def __init__(self, c: VQGANConfig):
        super().__init__()
        self.conv_in = nn.Conv2d(3, c.ch, 3, padding=1)
        block_in = c.ch
        down = []
        for i, m in enumerate(c.ch_mult):
            level = nn.Module()
            blocks = []
            # No residual block at full resolution: the encoder is not part of a bundle, and
            # this halves its cost on the 2-core machine.
            for _ in range(c.num_res_blocks if i > 0 else 0):
                blocks.append(ResBlock(block_in, c.ch * m, quirk=False))
                block_in = c.ch * m
            level.block = nn.ModuleList(blocks)
            if i != len(c.ch_mult) - 1:
                level.downsample = Downsample(block_in)
            down.append(level)
        self.down = nn.ModuleList(down)
        self.mid = Mid(block_in, quirk=False)
        self.norm_out = norm(block_in)
        self.conv_out = nn.Conv2d(block_in, c.z_channels, 3, padding=1)

    def forward(self, x):
        x = self.conv_in(x)
        for i, level in enumerate(self.down):
            for blk in level.block:
                x = blk(x)
            if hasattr(level, "downsample"):
                x = level.downsample(x)
        x = self.mid.block_2(self.mid.block_1(x))
        return self.conv_out(F.silu(self.norm_out(x)))


class Quantize(nn.Module):
    """Cosine-similarity vector quantizer: encoder outputs and codes are unit vectors, and the
    rows of `embedding.weight` are kept at unit length, so the bundle's codebook is exactly what
    the decoder saw in training (the engine looks codes up unchanged). Unit codes keep the
    codebook used evenly and stop near-duplicate background codes from splitting the plain
    background into many tokens (an ENAT then has to guess among them)."""

    def __init__(self, n, d):
        super().__init__()
        self.embedding = nn.Embedding(n, d)
        self.embedding.weight.requires_grad_(False)  # moved by EMA updates in training
        with torch.no_grad():
            self.embedding.weight.copy_(F.normalize(torch.randn(n, d), dim=1))

    @staticmethod
    def unit(z):
        """z [B, C, h, w] -> the same vectors at unit length (over C)."""
        return F.normalize(z, dim=1)

    def codes(self, z):
        """z [B, C, h, w] -> token ids [B, h, w] (the code of highest cosine similarity)."""
        B, C, h, w = z.shape
        flat = self.unit(z).permute(0, 2, 3, 1).reshape(-1, C)
        return (flat @ self.embedding.weight.T).argmax(1).view(B, h, w)

    def lookup(self, ids):
        return self.embedding(ids).permute(0, 3, 1, 2)


class VQGAN(nn.Module):
    def __init__(self, c: VQGANConfig):
        super().__init__()
        self.config = c
        self.encoder = Encoder(c)
        self.decoder = Decoder(c)
        self.quantize = Quantize(c.n_embed, c.embed_dim)

    def encoder_input(self, x):
        """The encoder's input from [0, 1] RGB: [-1, 1] (train_vqgan --released-encoder: as is)."""
        return x * 2 - 1

    def encode(self, x):
        """x [B, 3, H, W] in [0, 1] -> (unit z_e, ids)."""
        z = self.quantize.unit(self.encoder(self.encoder_input(x)))
        return z, self.quantize.codes(z)

    def decode_ids(self, ids):
        """ids [B, h, w] -> image [B, 3, H, W] (RGB, [0, 1] before clamping)."""
        return self.decoder(self.quantize.lookup(ids))


class AvgDownsample(nn.Module):
    """2x2 average pooling, stride 2: the released encoder's downsampling (no weights)."""

    def forward(self, x):
        return F.avg_pool2d(x, kernel_size=2, stride=2)


class ReleasedEncoder(nn.Module):
    """The encoder of the released tokenizer (`vqgan_jax_strongaug.ckpt`: MaskGIT's JAX encoder
    as ported to PyTorch by MAGE and used by ENAT's `extract_imagenet_feature.py`), under its
    official keys `encoder.*`, for any `VQGANConfig`.

    Input RGB in [0, 1] (ENAT's dataset divides the 8-bit pixels by 255; no [-1, 1] mapping).
    `conv_in` 3x3 without bias to `ch`; per level `num_res_blocks` residual blocks to
    `ch * ch_mult[i]` (the `nin_shortcut(h) + h` quirk of the decoder, as the checkpoint's
    `[cout, cout]` shortcut shapes require) and, except at the last level, 2x2 average pooling;
    `mid.block_1`, `mid.block_2`; `norm_out`, swish, `conv_out` 1x1 with bias to `z_channels`.
    No attention and no `quant_conv` (the checkpoint has neither). Tokens: the nearest codebook
    row by squared Euclidean distance (`nearest_codes`).
    """

    def __init__(self, c: VQGANConfig):
        super().__init__()
        self.conv_in = nn.Conv2d(3, c.ch, 3, padding=1, bias=False)
        block_in = c.ch
        down = []
        for i, m in enumerate(c.ch_mult):
            level = nn.Module()
            blocks = []
            for _ in range(c.num_res_blocks):
                blocks.append(ResBlock(block_in, c.ch * m, quirk=True))
                block_in = c.ch * m
            level.block = nn.ModuleList(blocks)
            if i != len(c.ch_mult) - 1:
                level.downsample = AvgDownsample()
            down.append(level)
        self.down = nn.ModuleList(down)
        self.mid = Mid(block_in, quirk=True)
        self.norm_out = norm(block_in)
        self.conv_out = nn.Conv2d(block_in, c.z_channels, 1)

    def forward(self, x):
        """x [B, 3, H, W] in [0, 1] -> z [B, z_channels, H / f, W / f]."""
        x = self.conv_in(x)
        for level in self.down:
            for blk in level.block:
                x = blk(x)
            if hasattr(level, "downsample"):
                x = level.downsample(x)
        x = self.mid.block_2(self.mid.block_1(x))
        return self.conv_out(F.silu(self.norm_out(x)))


def nearest_codes(z, codebook):
    """z [B, C, h, w], codebook [n, C] -> ids [B, h, w]: argmin over rows of
    `|z|^2 + |e|^2 - 2 z.e` (taming's VectorQuantizer2; ties go to the lowest index)."""
    B, C, h, w = z.shape
    flat = z.permute(0, 2, 3, 1).reshape(-1, C)
    d = flat.pow(2).sum(1, keepdim=True) + codebook.pow(2).sum(1) - 2 * flat @ codebook.T
    return d.argmin(1).view(B, h, w)
