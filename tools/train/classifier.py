#!/usr/bin/env python3
"""The quality classifier: a small MLP on real images of the procedural generator (dataset.py)
that names an image's shape, colour, size and position. It judges generated samples (the
Swift QualityTests and evaluate.py), so it is kept simple enough to run with plain matrix
products: 2x2 mean pooling of the [0, 1] RGB image to 32x32x3, flattened in (y, x, channel)
order, then Linear 3072->256, ReLU, Linear 256->128, ReLU, Linear 128->14. The 14 outputs are
the logits of four heads: shape (4), colour (3), size (2), position (5); class = shape * 3 + colour.

Training data: the real images, plus (`--recon N`) the VQGAN reconstructions of the first N
real training images with their true labels, so that the decoder's own texture (background
tint, soft edges) is not mistaken for a different shape or colour. Held-out accuracy is reported
on real held-out images (must be >= 95%) and on reconstructions of held-out images.

Exported as `Models/quality-classifier/classifier.safetensors` (keys fc1/fc2/fc3 .weight [out, in]
and .bias) with `config.json` (head names and sizes).
"""

from __future__ import annotations

import argparse
import json
import os

import common  # noqa: F401  (first: sets the OpenMP wait policy before torch loads)
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import OUT, ROOT, Clock, log, setup_torch
import dataset

HEADS = [("shape", dataset.SHAPES), ("colour", dataset.COLOURS), ("size", dataset.SIZES), ("position", dataset.POSITIONS)]


def features(images_u8: np.ndarray) -> torch.Tensor:
    """[B, 64, 64, 3] uint8 (or float in [0, 1]) -> [B, 3072]: 2x2 means, (y, x, c) order."""
    x = torch.as_tensor(images_u8).float()
    if images_u8.dtype == np.uint8:
        x = x / 255.0
    B = x.shape[0]
    x = x.view(B, 32, 2, 32, 2, 3).mean(dim=(2, 4))
    return x.reshape(B, -1)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3072, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, sum(len(v) for _, v in HEADS))

    def forward(self, f):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(f)))))

    def predict(self, images) -> np.ndarray:
        """[B, 4] attribute indices (shape, colour, size, position)."""
        with torch.no_grad():
            out = self(features(images))
        preds, o = [], 0
        for _, names in HEADS:
            preds.append(out[:, o:o + len(names)].argmax(1))
            o += len(names)
        return torch.stack(preds, 1).numpy()


def load(path=None) -> Classifier:
    from safetensors.torch import load_file
    m = Classifier()
    m.load_state_dict(load_file(path or os.path.join(OUT, "classifier.safetensors")))
    return m.eval()


def reconstructions(token_file: str, count: int) -> np.ndarray:
    """VQGAN decodes of the first `count` token maps of OUT/token_file, as uint8 images."""
    from vqgan import VQGAN, VQGANConfig
    ck = torch.load(os.path.join(OUT, "vqgan.pt"), map_location="cpu")
    vq = VQGAN(VQGANConfig(**ck["config"]))
    vq.load_state_dict(ck["state_dict"])
    vq.eval()
    tokens = np.load(os.path.join(OUT, token_file))["tokens"][:count].astype(np.int64)
    out = []
    with torch.no_grad():
        for i in range(0, len(tokens), 200):
            x = vq.decode_ids(torch.from_numpy(tokens[i:i + 200]).view(-1, 8, 8)).clamp(0, 1)
            out.append((x.permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8))
    return np.concatenate(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--max-minutes", type=float, default=6)
    p.add_argument("--recon", type=int, default=6000, help="VQGAN reconstructions added to the training set")
    a = p.parse_args()
    setup_torch(3)
    images, attrs, _, _ = dataset.load(os.path.join(OUT, "data", "train.npz"))
    held, hattrs, _, _ = dataset.load(os.path.join(OUT, "data", "heldout.npz"))
    held_recon = None
    if a.recon:
        images = np.concatenate([images, reconstructions("tokens_train.npz", a.recon)])
        attrs = np.concatenate([attrs, attrs[: a.recon]])
        held_recon = reconstructions("tokens_heldout.npz", 1000)
        log(f"{a.recon} reconstructions added")
    model = Classifier()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(3)
    y_all = torch.from_numpy(attrs)
    clock = Clock()
    for step in range(a.steps):
        for g in opt.param_groups:
            g["lr"] = 2e-3 * 0.5 * (1 + np.cos(np.pi * step / a.steps))
        idx = torch.randint(0, len(images), (a.batch,), generator=gen)
        f = features(images[idx.numpy()])
        f = f + 0.03 * torch.randn(f.shape, generator=gen)  # robustness to generator noise
        out = model(f)
        y = y_all[idx]
        loss, o = 0.0, 0
        for h, (_, names) in enumerate(HEADS):
            loss = loss + F.cross_entropy(out[:, o:o + len(names)], y[:, h])
            o += len(names)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 500 == 0:
            log(f"step {step} loss {loss.item():.4f}")
        if clock.minutes() > a.max_minutes:
            break
    model.eval()
    pred = model.predict(held)
    acc = {name: float((pred[:, h] == hattrs[:, h]).mean()) for h, (name, _) in enumerate(HEADS)}
    acc["class"] = float(((pred[:, 0] == hattrs[:, 0]) & (pred[:, 1] == hattrs[:, 1])).mean())
    acc["all_four"] = float((pred == hattrs).all(1).mean())
    if held_recon is not None:
        pr = model.predict(held_recon)
        ha = hattrs[: len(held_recon)]
        acc["class_on_reconstructions"] = float(((pr[:, 0] == ha[:, 0]) & (pr[:, 1] == ha[:, 1])).mean())
        acc["all_four_on_reconstructions"] = float((pr == ha).all(1).mean())
    stats = {"heldout_images": len(held), "accuracy": acc, "reconstructions_in_training": a.recon, "steps": step + 1, "minutes": round(clock.minutes(), 1)}
    log(json.dumps(stats))
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(OUT, "classifier.safetensors"))
    json.dump(stats, open(os.path.join(OUT, "classifier_stats.json"), "w"), indent=1)
    if acc["class"] < 0.95:
        raise SystemExit(f"held-out class accuracy {acc['class']:.3f} is under 0.95")


if __name__ == "__main__":
    main()
