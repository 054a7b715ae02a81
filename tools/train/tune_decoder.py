#!/usr/bin/env python3
"""Trains the VQGAN's decoder further with its encoder and codebook frozen, so that every token
stays what it was (the ENATs trained on them stay valid) and only the pixels drawn from them get
better. Half of each batch is scenes of two or three shapes, as in `train_vqgan.py --scenes`.

Why: a VQGAN whose reconstructions the quality classifier recognises only 91% of the time caps
what any ENAT on its tokens can score. Session 11, on the VQGAN of `tools/train/run demo-shapes`
(2,400 steps): 1,500 steps in 27 minutes took held-out PSNR from 26.6 to 27.5 dB (mean abs error
4.6 to 3.6/255) and the recognised reconstructions from 91.3% to 94.4% (480 held-out images).
Not yet a step of `run` (tools/train/README.md, "Edits").

    python tune_decoder.py --steps 1500 --lr 3e-4   # OUT/vqgan.pt in place; figures in OUT/decoder_tune.json
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
from vqgan import VQGAN, ReleasedEncoder, VQGANConfig


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--scenes", type=int, default=8, help="scenes of two or three shapes per batch")
    a = p.parse_args()
    setup_torch(0)
    images, _, _, _ = dataset.load(os.path.join(OUT, "data", "train.npz"))
    held, _, _, _ = dataset.load(os.path.join(OUT, "data", "heldout.npz"))
    path = os.path.join(OUT, "vqgan.pt")
    ck = torch.load(path, map_location="cpu")
    if not ck.get("released_encoder"):
        p.error("OUT/vqgan.pt was not trained with --released-encoder")
    cfg = VQGANConfig(**ck["config"])
    model = VQGAN(cfg)
    model.encoder = ReleasedEncoder(cfg)
    model.encoder_input = lambda x: x
    model.load_state_dict(ck["state_dict"])
    model.eval()
    for q in model.parameters():
        q.requires_grad_(False)
    for q in model.decoder.parameters():
        q.requires_grad_(True)
    model.decoder.train()
    quant = model.quantize
    opt = torch.optim.Adam(model.decoder.parameters(), lr=a.lr, betas=(0.9, 0.99))
    rng, scene_rng = np.random.default_rng(5), np.random.default_rng(11)

    def batch(idx):
        x = batches_of(images, idx)
        drawn = np.stack([dataset.draw_scene(scene_rng, int(scene_rng.integers(2, 4))) for _ in range(a.scenes)])
        x[:a.scenes] = torch.from_numpy(drawn).permute(0, 3, 1, 2).float() / 255.0
        return x

    def heldout():
        model.decoder.eval()
        with torch.no_grad():
            x = batches_of(held, np.arange(512))
            xh = model.decoder(quant.lookup(quant.codes(quant.unit(model.encoder(x))))).clamp(0, 1)
            mse, mae = F.mse_loss(xh, x).item(), (xh - x).abs().mean().item() * 255
        model.decoder.train()
        return {"heldout_mse": mse, "heldout_psnr_db": float(10 * np.log10(1 / mse)), "heldout_mae_255": mae}

    before = heldout()
    log(f"before: {before}")
    clock = Clock()
    for step in range(a.steps):
        for g in opt.param_groups:
            g["lr"] = a.lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * step / a.steps)))
        x = batch(rng.integers(0, len(images), a.batch))
        with torch.no_grad():  # the frozen encoder and codebook: the tokens the ENATs know
            zq = quant.lookup(quant.codes(quant.unit(model.encoder(x))))
        loss = recon_loss(model.decoder(zq), x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 100 == 0:
            log(f"step {step} loss {loss.item():.4f} {clock.minutes():.1f} min")
    model.eval()
    after = heldout()
    log(f"after: {after}")
    torch.save({**ck, "state_dict": model.state_dict()}, path)
    json.dump({"steps": a.steps, "minutes": round(clock.minutes(), 1), "before": before, "after": after},
              open(os.path.join(OUT, "decoder_tune.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
