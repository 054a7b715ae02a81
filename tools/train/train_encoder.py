#!/usr/bin/env python3
"""Fits the released tokenizer's encoder architecture (vqgan.ReleasedEncoder) to the demo
VQGAN's frozen decoder and codebook, so that the demo bundles can turn images into tokens
(edits, inpainting) with the same encoder and quantizer as the official checkpoint.

The demo VQGAN was trained (train_vqgan.py) with its own encoder and a cosine-similarity
quantizer; the bundles keep only its decoder and codebook, and its tokens are what the demo
ENATs learnt. This step keeps both unchanged and trains a new encoder whose nearest codebook
rows (squared Euclidean distance, as the official quantizer; the codebook rows have unit
length) decode back to the input: straight-through reconstruction through the frozen decoder
(train_vqgan's loss) plus a commitment loss, after a warm-up that decodes the unquantized
output. Its weights are rounded to F16 at the end (the bundles store them so) and the figures
printed are those of the rounded weights.

    python train_encoder.py                              # decoder from OUT/vqgan.pt, writes OUT/encoder.pt
    python train_encoder.py --vqgan ../../Models/demo-shapes/vqgan.safetensors \
        --into ../../Models/demo-shapes ../../Models/demo-captions   # also adds encoder.* to these bundles
"""

from __future__ import annotations

import argparse
import json
import os

import common  # noqa: F401  (first: sets the OpenMP wait policy before torch loads)
import numpy as np
import torch
import torch.nn.functional as F

from common import OUT, Clock, log, setup_torch
import dataset
from train_vqgan import batches_of, recon_loss
from vqgan import Decoder, ReleasedEncoder, VQGANConfig, nearest_codes

CONFIG_KEYS = ("ch", "ch_mult", "num_res_blocks", "z_channels", "embed_dim", "n_embed", "out_ch", "resolution")


def frozen_decoder(path):
    """(config, decoder, codebook [n, C]) from OUT/vqgan.pt or a bundle's vqgan.safetensors
    (with its config.json beside it)."""
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file
        sd = load_file(path)
        bundle = json.load(open(os.path.join(os.path.dirname(path), "config.json")))
        cfg = VQGANConfig(**{k: bundle["vqgan"][k] for k in CONFIG_KEYS})
    else:
        ck = torch.load(path, map_location="cpu")
        sd = ck["state_dict"]
        cfg = VQGANConfig(**{k: ck["config"][k] for k in CONFIG_KEYS})
    decoder = Decoder(cfg)
    decoder.load_state_dict({k[len("decoder."):]: v.float() for k, v in sd.items() if k.startswith("decoder.")})
    decoder.requires_grad_(False).eval()
    return cfg, decoder, sd["quantize.embedding.weight"].float()


@torch.no_grad()
def evaluate(encoder, decoder, codebook, images, bs=128):
    """Held-out reconstruction through the tokens: MSE, PSNR, mean abs error (of 255), codes used."""
    errs, abs_errs, used = [], [], set()
    for i in range(0, len(images), bs):
        x = batches_of(images, np.arange(i, min(i + bs, len(images))))
        ids = nearest_codes(encoder(x), codebook)
        used.update(ids.flatten().tolist())
        xh = decoder(codebook[ids].permute(0, 3, 1, 2)).clamp(0, 1)
        errs.append(((xh - x) ** 2).mean().item() * len(x))
        abs_errs.append((xh - x).abs().mean().item() * len(x))
    mse = sum(errs) / len(images)
    return {"heldout_mse": mse, "heldout_psnr_db": float(10 * np.log10(1 / mse)),
            "heldout_mae_255": sum(abs_errs) / len(images) * 255, "codes_used": len(used)}


def add_to_bundles(folders, encoder_sd):
    """Rewrites each bundle's VQGAN file with the encoder's keys added (F16); other keys unchanged."""
    from safetensors.torch import load_file, save_file
    for folder in folders:
        config = json.load(open(os.path.join(folder, "config.json")))
        path = os.path.join(folder, config["files"]["vqgan"])
        before = os.path.getsize(path)
        sd = {k: v for k, v in load_file(path).items() if not k.startswith("encoder.")}
        sd.update({k: v.half().contiguous() for k, v in encoder_sd.items()})
        save_file(sd, path, metadata={"format": "pt"})
        log(f"{path}: {before / 1e6:.2f} MB -> {os.path.getsize(path) / 1e6:.2f} MB")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vqgan", default=os.path.join(OUT, "vqgan.pt"))
    p.add_argument("--into", nargs="*", default=[], help="bundle folders whose VQGAN file gains the encoder")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--warmup", type=int, default=300, help="steps that decode the unquantized encoder output")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--images", type=int, default=20000, help="training images (seed 1, as train.npz)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--max-minutes", type=float, default=15)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    setup_torch(a.seed)
    cfg, decoder, codebook = frozen_decoder(a.vqgan)
    images, _, _ = dataset.generate(1, a.images)
    held, _, _ = dataset.generate(2, 512)
    log(f"{len(images)} training images; decoder and codebook ({cfg.n_embed} codes) frozen")
    encoder = ReleasedEncoder(cfg)
    opt = torch.optim.Adam(encoder.parameters(), lr=a.lr, betas=(0.9, 0.99))
    clock = Clock()
    rng = np.random.default_rng(a.seed)
    step = 0
    for step in range(a.steps):
        frac = min(1.0, max(step / a.steps, clock.minutes() / a.max_minutes))
        if frac >= 1:
            log(f"time cap at step {step}")
            break
        for g in opt.param_groups:
            g["lr"] = a.lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * frac)))
        x = batches_of(images, rng.integers(0, len(images), a.batch))
        z = encoder(x)
        zq = codebook[nearest_codes(z.detach(), codebook)].permute(0, 3, 1, 2)
        commit = 0.25 * F.mse_loss(z, zq)
        decoded = z if step < a.warmup else z + (zq - z).detach()
        loss = recon_loss(decoder(decoded), x) + commit
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 100 == 0:
            log(f"step {step} loss {loss.item():.4f} commit {commit.item():.4f} {clock.minutes():.1f} min")
    encoder.eval()
    with torch.no_grad():
        for q in encoder.parameters():
            q.copy_(q.half().float())
    stats = {"steps": step + 1, "minutes": round(clock.minutes(), 1), **evaluate(encoder, decoder, codebook, held)}
    log(json.dumps(stats))
    sd = {f"encoder.{k}": v.detach().clone() for k, v in encoder.state_dict().items()}
    os.makedirs(OUT, exist_ok=True)
    torch.save({"config": cfg.to_dict(), "state_dict": sd, "stats": stats}, os.path.join(OUT, "encoder.pt"))
    json.dump(stats, open(os.path.join(OUT, "encoder_stats.json"), "w"), indent=1)
    add_to_bundles(a.into, sd)


if __name__ == "__main__":
    main()
