#!/usr/bin/env python3
"""Trains a class-conditional or a caption-conditioned ENAT on the VQGAN tokens.

ENAT recipe: per batch one mask count `floor(L * cos(pi/2 * u))`, u ~ U(0, 1) (at least 1 token),
random positions per sample; cross-entropy (label smoothing 0.1) on the masked tokens; the
condition dropped to the unconditional one 10% of the time (label `num_classes`, or the empty
caption) for classifier-free guidance. The reuse path that the sampler takes after step 0 is
trained too: half of the batches first run the model without gradients on a more-masked
version (a superset mask, as the previous sampler step would have), and the trained forward
gets those features as `prev` (new tokens through the encoder with the projected old features as
context). Weights kept as an exponential moving average (what is exported).

    python train_enat.py --kind class   # -> OUT/enat_class.pt
    python train_enat.py --kind caption # -> OUT/enat_caption.pt (with the CLIP text tower)
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import math
import os
import sys

import common  # noqa: F401  (first: sets the OpenMP wait policy before torch loads)
import numpy as np
import torch
import torch.nn.functional as F

from common import OUT, VOCAB, Clock, log, setup_torch
import dataset
from clip_text import CLIPTextConfig, CLIPTextModel
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
from clip_reference import Tokenizer as CLIPTokenizer  # noqa: E402  (the one CLIP tokenizer, checked against the official ids)
from enat import ENAT, ENATConfig


class Conditioned(torch.nn.Module):
    """The ENAT and, for captions, its text tower: one module for the optimiser and the EMA."""

    def __init__(self, enat: ENAT, text: CLIPTextModel | None):
        super().__init__()
        self.enat = enat
        self.text = text

    def cond(self, labels=None, input_ids=None):
        if self.text is None:
            return {"labels": labels}
        return {"text": self.text(input_ids)}


def train_step(model, ema, opt, x, masking, prev_masking, cond, ema_decay):
    """One optimiser step of ENAT's recipe on token maps x [B, L]: cross-entropy (label
    smoothing 0.1) on the `masking` positions; with `prev_masking` (a superset), the reuse path:
    a no-gradient forward on that more-masked map gives `prev`. Then the EMA update. Returns
    the loss."""
    mask_id = model.enat.config.mask_id
    prev = None
    if prev_masking is not None:
        with torch.no_grad():
            pc = {k: (tuple(t.detach() for t in v) if isinstance(v, tuple) else v) for k, v in cond.items()}
            _, pf, pm = model.enat(x.masked_fill(prev_masking, mask_id), prev=None, **pc)
        prev = (pf, pm)
    logits, _, _ = model.enat(x.masked_fill(masking, mask_id), prev=prev, **cond)
    loss = F.cross_entropy(logits[masking], x[masking], label_smoothing=0.1)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    with torch.no_grad():
        for pe, pm_ in zip(ema.parameters(), model.parameters()):
            pe.mul_(ema_decay).add_(pm_.detach(), alpha=1 - ema_decay)
    return loss


def optimiser_and_ema(model, lr):
    """AdamW (weight decay 0.03 except on biases, norms and embeddings) and the frozen EMA copy."""
    ema = copy.deepcopy(model).eval()
    for q in ema.parameters():
        q.requires_grad_(False)
    decay, no_decay = [], []
    for n, q in model.named_parameters():
        (no_decay if q.dim() < 2 or "embedding" in n else decay).append(q)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.03}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.99))
    return opt, ema


def set_learning_rate(opt, base, step, warm, progress):
    """Linear warm-up over `warm` steps, then cosine decay to 5% as `progress` goes 0 to 1."""
    lr = base * min(1, (step + 1) / warm) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))
    for g in opt.param_groups:
        g["lr"] = lr
    return lr


def mask_counts(total, gen, reuse_prob):
    """ENAT's training mask count over `total` positions, `floor(total * cos(pi/2 * u))` (at
    least 1), and, with probability `reuse_prob`, the previous sampler step's larger count (the
    reuse path); otherwise both are equal."""
    u = float(torch.rand((), generator=gen))
    n_mask = min(total, max(1, int(math.floor(total * math.cos(math.pi / 2 * u)))))
    n_prev = n_mask
    if float(torch.rand((), generator=gen)) < reuse_prob and n_mask < total:
        du = 0.05 + 0.2 * float(torch.rand((), generator=gen))
        n_prev = min(total, max(n_mask + 1, int(math.floor(total * math.cos(math.pi / 2 * max(0.0, u - du))))))
    return n_mask, n_prev


def random_masks(B, L, n_mask, n_prev, gen):
    """masking [B, L] with n_mask True per row and prev masking with n_prev >= n_mask True,
    a superset: both are prefixes of one random order per row."""
    order = torch.argsort(torch.rand(B, L, generator=gen), dim=1)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(L).expand(B, L))
    return rank < n_mask, rank < n_prev


def build(kind: str, a, num_classes: int):
    cfg = ENATConfig(latent_size=8, hidden_size=a.dim, num_heads=a.heads, enc_depth=a.enc, dec_depth=a.dec,
                     codebook_size=a.codebook, num_classes=num_classes if kind == "class" else 0,
                     mlp_ratio=a.mlp_ratio)
    text = None
    if kind == "caption":
        tc = CLIPTextConfig(hidden_size=a.text_dim, intermediate_size=4 * a.text_dim, num_hidden_layers=a.text_layers,
                            num_attention_heads=a.text_heads)
        text = CLIPTextModel(tc)
    return Conditioned(ENAT(cfg, text_width=a.text_dim if kind == "caption" else 0), text)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kind", choices=["class", "caption"], required=True)
    p.add_argument("--steps", type=int, default=0, help="step count of the schedule (0: the wall-time budget alone)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--max-minutes", type=float, default=40)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--enc", type=int, default=4)
    p.add_argument("--dec", type=int, default=2)
    p.add_argument("--codebook", type=int, help="codebook size (default: the trained VQGAN's, OUT/vqgan.pt)")
    # 2 rather than the official 4: a third less compute per step here, and half the GELUs
    # for the engine (its debug build evaluates them slowly in the quality tests).
    p.add_argument("--mlp-ratio", type=float, default=2.0)
    p.add_argument("--text-dim", type=int, default=64)
    p.add_argument("--text-layers", type=int, default=2)
    p.add_argument("--text-heads", type=int, default=4)
    p.add_argument("--reuse-prob", type=float, default=0.5)
    p.add_argument("--drop-prob", type=float, default=0.1)
    p.add_argument("--ema", type=float, default=0.998)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from OUT/enat_<kind>.pt (its EMA weights)")
    a = p.parse_args()
    if a.codebook is None:
        a.codebook = torch.load(os.path.join(OUT, "vqgan.pt"), map_location="cpu")["config"]["n_embed"]
    setup_torch(a.seed)
    gen = torch.Generator().manual_seed(a.seed + 1)
    tokens = torch.from_numpy(np.load(os.path.join(OUT, "tokens_train.npz"))["tokens"].astype(np.int64))
    N, L = tokens.shape
    _, attrs, labels, captions = dataset.load(os.path.join(OUT, "data", "train.npz"))
    labels = torch.from_numpy(labels[:N])
    num_classes = len(dataset.CLASS_NAMES)
    model = build(a.kind, a, num_classes)
    cfg = model.enat.config
    if a.kind == "caption":
        tok = CLIPTokenizer(VOCAB)
        ids_all = torch.tensor([tok.tokenize(c) for c in captions[:N]], dtype=torch.long)
        empty_ids = torch.tensor(tok.tokenize(""), dtype=torch.long)
    out = os.path.join(OUT, f"enat_{a.kind}.pt")
    done_steps = 0
    if a.resume:
        ck = torch.load(out, map_location="cpu")
        model.load_state_dict(ck["state_dict"])
        done_steps = ck["meta"]["steps"]
        log(f"resumed from {out} after {done_steps} steps")
    opt, ema = optimiser_and_ema(model, a.lr)
    log(f"{a.kind}: {sum(q.numel() for q in model.parameters()) / 1e6:.2f} M parameters, {N} token maps")
    clock = Clock()
    warm = 200
    running = None
    step = 0
    for step in itertools.count():
        # Progress by steps or by wall time, whichever is further: a busy machine still gets a
        # fully decayed learning rate by the time limit.
        progress = max(step / a.steps if a.steps else 0, clock.minutes() / a.max_minutes)
        if progress >= 1:
            break
        lr = set_learning_rate(opt, a.lr, step, warm, progress)
        idx = torch.randint(0, N, (a.batch,), generator=gen)
        x = tokens[idx]
        n_mask, n_prev = mask_counts(L, gen, a.reuse_prob)
        reuse = n_prev > n_mask
        masking, prev_masking = random_masks(a.batch, L, n_mask, n_prev, gen)
        drop = torch.rand(a.batch, generator=gen) < a.drop_prob
        if a.kind == "class":
            cond = model.cond(labels=torch.where(drop, torch.full_like(labels[idx], num_classes), labels[idx]))
        else:
            ids_txt = torch.where(drop[:, None], empty_ids[None], ids_all[idx])
            cond = model.cond(input_ids=ids_txt)
        d = a.ema if a.resume else min(a.ema, (1 + step) / (10 + step))
        loss = train_step(model, ema, opt, x, masking, prev_masking if reuse else None, cond, d)
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if step % 100 == 0:
            log(f"step {step} loss {running:.3f} lr {lr:.2e} {clock.minutes():.1f} min")
    meta = {"enat": cfg.to_dict(), "steps": done_steps + step, "minutes": round(clock.minutes(), 1), "loss": running}
    if a.kind == "caption":
        meta["text"] = model.text.config.to_dict()
    torch.save({"meta": meta, "state_dict": ema.state_dict()}, out)
    log(json.dumps(meta))


if __name__ == "__main__":
    main()
