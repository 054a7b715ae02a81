#!/usr/bin/env python3
"""Trains the small VQGAN (vqgan.py) on the procedural dataset, then tokenizes the datasets.

Recipe: a plain auto-encoder warm-up on unit-length encoder outputs, the codebook initialised by
spherical k-means on them, then straight-through VQ with cosine-similarity codes (vqgan.Quantize),
a commitment loss (beta 0.25), codebook moving averages (no codebook gradient) and dead-code
restarts at the worst-quantized vectors. Loss: L1 + MSE on [0, 1] RGB, with pixels of the shape
weighted 4x (the background is most of the image).

Writes OUT/vqgan.pt, OUT/tokens_train.npz, OUT/tokens_heldout.npz and prints the reconstruction
error and codebook usage on held-out images.

`--released-encoder` trains the released tokenizer's encoder architecture (vqgan.ReleasedEncoder,
[0, 1] input) as the VQGAN's encoder, so the bundle's encoder is the one its tokens came from:
with unit-length codes, the official nearest-row-by-Euclidean-distance quantizer picks exactly
the code of highest cosine similarity. `--scenes F` makes that share of every batch scenes of two
or three shapes of independent colours (dataset.draw_scene): a token must then carry its own
colour, where single-shape images let the decoder read it off the background, which makes edits
that change a shape's colour impossible (README, "Edits"). `--write-vqgan FILE` writes the
bundle's VQGAN file (decoder and codebook F32, encoder F16).
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
from vqgan import VQGAN, ReleasedEncoder, VQGANConfig


def batches_of(images, idx):
    return torch.from_numpy(images[idx]).permute(0, 3, 1, 2).float() / 255.0


def kmeans(x, k, iters=15, gen=None):
    c = x[torch.randperm(len(x), generator=gen)[:k]].clone()
    for _ in range(iters):
        a = torch.cdist(x, c).argmin(1)
        sums = torch.zeros_like(c).index_add_(0, a, x)
        counts = torch.bincount(a, minlength=k).float()
        empty = counts == 0
        c = sums / counts.clamp(min=1)[:, None]
        c[empty] = x[torch.randint(len(x), (int(empty.sum()),), generator=gen)]
    return c


def recon_loss(xh, x):
    bg = torch.tensor(dataset.BACKGROUND, dtype=x.dtype).view(1, 3, 1, 1) / 255
    w = 1 + 3 * ((x - bg).abs().amax(1, keepdim=True) > 0.05).float()
    return ((xh - x).abs() * w).mean() + (((xh - x) ** 2) * w).mean()


@torch.no_grad()
def tokenize(model, images, bs=256):
    out = []
    for i in range(0, len(images), bs):
        _, ids = model.encode(batches_of(images, np.arange(i, min(i + bs, len(images)))))
        out.append(ids.view(len(ids), -1).to(torch.int16))
    return torch.cat(out).numpy()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=1900)
    p.add_argument("--warmup", type=int, default=500, help="plain auto-encoder steps before k-means")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--tokenize", type=int, default=40000, help="training images to tokenize for ENAT (0: none, only the checkpoint)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--ema", type=float, default=0.99, help="decay of the codebook's moving averages")
    p.add_argument("--max-minutes", type=float, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--released-encoder", action="store_true")
    p.add_argument("--scenes", type=float, default=0.0, help="share of each batch that is multi-shape scenes")
    p.add_argument("--write-vqgan", help="also write the bundle's VQGAN file here")
    a = p.parse_args()
    setup_torch(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    images, _, _, _ = dataset.load(os.path.join(OUT, "data", "train.npz"))
    held, _, _, _ = dataset.load(os.path.join(OUT, "data", "heldout.npz"))
    cfg = VQGANConfig()
    model = VQGAN(cfg)
    if a.released_encoder:
        model.encoder = ReleasedEncoder(cfg)
        model.encoder_input = lambda x: x  # [0, 1], as the released encoder takes it
    scene_rng = np.random.default_rng(a.seed + 7)
    scenes = int(round(a.scenes * a.batch))

    def batch(idx):
        x = batches_of(images, idx)
        if scenes:
            drawn = np.stack([dataset.draw_scene(scene_rng, int(scene_rng.integers(2, 4))) for _ in range(scenes)])
            x[:scenes] = torch.from_numpy(drawn).permute(0, 3, 1, 2).float() / 255.0
        return x
    quant = model.quantize
    opt = torch.optim.Adam([q for q in model.parameters() if q.requires_grad], lr=a.lr, betas=(0.9, 0.99))
    clock = Clock()
    rng = np.random.default_rng(a.seed)
    ema_count = torch.zeros(cfg.n_embed)
    ema_sum = torch.zeros(cfg.n_embed, cfg.embed_dim)
    step = 0
    for step in range(a.steps):
        # Progress by steps or by wall time, whichever is further (a busy machine still ends
        # with a decayed learning rate); the VQ phase starts at a step count either way.
        frac = min(1.0, max(step / a.steps, clock.minutes() / a.max_minutes))
        if frac >= 1:
            log(f"time cap at step {step}")
            break
        for g in opt.param_groups:
            g["lr"] = a.lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * frac)))
        x = batch(rng.integers(0, len(images), a.batch))
        z = quant.unit(model.encoder(model.encoder_input(x)))
        if step < a.warmup:
            loss = recon_loss(model.decoder(z), x)
            vq = torch.zeros(())
        else:
            if step == a.warmup:
                with torch.no_grad():
                    zs = torch.cat([quant.unit(model.encoder(model.encoder_input(batch(rng.integers(0, len(images), 64)))))
                                    .permute(0, 2, 3, 1).reshape(-1, cfg.z_channels) for _ in range(16)])
                    centres = F.normalize(kmeans(zs, cfg.n_embed, gen=gen), dim=1)
                    quant.embedding.weight.copy_(centres)
                    ema_sum.copy_(centres)
                    ema_count.fill_(1.0)
                log(f"k-means codebook init from {len(zs)} vectors")
            ids = quant.codes(z.detach())
            zq = quant.lookup(ids)
            vq = 0.25 * F.mse_loss(z, zq)
            loss = recon_loss(model.decoder(z + (zq - z).detach()), x) + vq
            with torch.no_grad():
                flat = z.detach().permute(0, 2, 3, 1).reshape(-1, cfg.z_channels)
                fid = ids.flatten()
                ema_count.mul_(a.ema).add_(torch.bincount(fid, minlength=cfg.n_embed).float(), alpha=1 - a.ema)
                ema_sum.mul_(a.ema).add_(torch.zeros_like(ema_sum).index_add_(0, fid, flat), alpha=1 - a.ema)
                quant.embedding.weight.copy_(F.normalize(ema_sum, dim=1))
                # Codes nobody picks restart at the worst-quantized vectors of this batch (where
                # the codebook is short), not at random ones (mostly background: duplicates).
                dead = (ema_count < 1e-3).nonzero().flatten()
                if len(dead):
                    err = (flat - quant.embedding.weight[fid]).pow(2).sum(1)
                    pick = flat[err.topk(min(len(dead), len(err))).indices]
                    dead = dead[: len(pick)]
                    ema_sum[dead] = pick
                    ema_count[dead] = 1.0
                    quant.embedding.weight[dead] = pick
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 100 == 0:
            log(f"step {step} loss {loss.item():.4f} vq {vq.item():.4f} {clock.minutes():.1f} min")
    model.eval()
    torch.save({"config": cfg.to_dict(), "state_dict": model.state_dict(), "released_encoder": a.released_encoder},
               os.path.join(OUT, "vqgan.pt"))
    if a.write_vqgan:
        from safetensors.torch import save_file
        sd = {k: v.float().contiguous() for k, v in model.state_dict().items()
              if k.startswith("decoder.") or k == "quantize.embedding.weight"}
        if a.released_encoder:
            sd.update({k: v.half().contiguous() for k, v in model.state_dict().items() if k.startswith("encoder.")})
        save_file(sd, a.write_vqgan, metadata={"format": "pt"})
        log(f"wrote {a.write_vqgan}")
    if a.tokenize == 0:
        return
    tok_train = tokenize(model, images[: a.tokenize])
    tok_held = tokenize(model, held)
    with torch.no_grad():
        idx = np.arange(512)
        xh = model.decode_ids(torch.from_numpy(tok_held[idx].astype(np.int64)).view(-1, 8, 8)).clamp(0, 1)
        x = batches_of(held, idx)
        mse = F.mse_loss(xh, x).item()
        mae = (xh - x).abs().mean().item()
    counts = np.bincount(tok_train.flatten().astype(np.int64), minlength=cfg.n_embed)
    p_ = counts / counts.sum()
    perplexity = float(np.exp(-(p_[p_ > 0] * np.log(p_[p_ > 0])).sum()))
    stats = {"steps": step + 1, "minutes": round(clock.minutes(), 1), "heldout_mse": mse,
             "heldout_psnr_db": 10 * np.log10(1 / mse), "heldout_mae_255": mae * 255,
             "codes_used": int((counts > 0).sum()), "codebook_size": cfg.n_embed, "code_perplexity": perplexity}
    log(json.dumps(stats))
    json.dump(stats, open(os.path.join(OUT, "vqgan_stats.json"), "w"), indent=1)
    np.savez(os.path.join(OUT, "tokens_train.npz"), tokens=tok_train)  # rows = the first images of train.npz
    np.savez(os.path.join(OUT, "tokens_heldout.npz"), tokens=tok_held)
    # A before/after strip for a look: 16 held-out images over their reconstructions.
    from PIL import Image
    top = np.concatenate(list(held[:16]), axis=1)
    bottom = np.concatenate(list((xh[:16].permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)), axis=1)
    Image.fromarray(np.concatenate([top, bottom], axis=0)).save(os.path.join(OUT, "vqgan_recon.png"))


if __name__ == "__main__":
    main()
