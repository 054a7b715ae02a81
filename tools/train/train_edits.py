#!/usr/bin/env python3
"""Fine-tunes a demo bundle's ENAT for edits, on the tokens of the bundle's own encoder.

Why: the ENATs of train_enat.py learnt the tokens of the VQGAN's training encoder, whose
receptive field spans the whole 8x8 token map, so every background token carries the colour
of the shape beside it. Asked to repaint a shape's bounding box as another class, they copy
the colour of the context (20% of edits recognised, edit_eval.py). Two changes fix it:

- the token maps are those of the bundle's encoder (`encoder.*`, the released architecture,
  train_encoder.py), the one the server encodes uploads with, so edits and training agree;
- half of the batches are edits: a dataset image A and an image B drawn with the same
  random draws (size, position, jitter, colour noise) but another shape and/or colour; the
  token cells under the union of both shapes' bounding boxes take B's tokens, the rest keep
  A's, the condition is B's (class, or caption), and only box cells are masked and learnt.
  The other half are ordinary batches (both images of the pairs), ENAT's recipe as in
  train_enat.py (mask schedule, reuse path, condition dropout).

Starts from the bundle's weights; AdamW, warm-up and cosine decay over the budget (`--steps`, or
wall time), EMA weights written back into the bundle's transformer file (F16) with `--write`.

    python train_edits.py --bundle ../../Models/demo-shapes --max-minutes 20 --write
    python train_edits.py --bundle ../../Models/demo-captions --max-minutes 20 --write
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys

import common  # noqa: F401  (first: sets the OpenMP wait policy before torch loads)
import numpy as np
import torch

from common import Clock, log, setup_torch
import dataset
from edit_eval import Bundle, shape_cells
from train_enat import mask_counts, optimiser_and_ema, set_learning_rate, train_step
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
from clip_reference import Tokenizer as CLIPTokenizer  # noqa: E402  (the one CLIP tokenizer)


def pair(seed: int, index: int, other: int):
    """Image `index` of `seed` (A, as dataset.sample) and B: the same draws with class
    `(class_A + other) % 12`. Returns images, attributes [2, 4] and captions of A and B."""
    rng = np.random.default_rng([seed, index])
    a = [int(rng.integers(len(dataset.SHAPES))), int(rng.integers(len(dataset.COLOURS))),
         int(rng.integers(len(dataset.SIZES))), int(rng.integers(len(dataset.POSITIONS)))]
    state = copy.deepcopy(rng.bit_generator.state)
    names = dataset.SHAPES[a[0]], dataset.COLOURS[a[1]], dataset.SIZES[a[2]], dataset.POSITIONS[a[3]]
    image_a = dataset.draw(*names, rng)
    caption_a = dataset.caption_for(*names, rng)
    cls_b = (dataset.class_of(a[0], a[1]) + other) % 12
    b = [cls_b // 3, cls_b % 3, a[2], a[3]]
    rng.bit_generator.state = state
    names = dataset.SHAPES[b[0]], dataset.COLOURS[b[1]], dataset.SIZES[b[2]], dataset.POSITIONS[b[3]]
    image_b = dataset.draw(*names, rng)
    caption_b = dataset.caption_for(*names, rng)
    return (image_a, image_b), (a, b), (caption_a, caption_b)


def make_pool(bundle, count, seed=1):
    """Pairs with their token maps (bundle encoder), box cells and conditions."""
    gen = np.random.default_rng(seed + 100)
    images, attrs, captions = [], [], []
    for i in range(count):
        ims, ats, caps = pair(seed, i, int(gen.integers(1, 12)))
        images += ims
        attrs += ats
        captions += caps
    images = np.stack(images)
    tokens = torch.cat([bundle.encode(images[i:i + 512]) for i in range(0, len(images), 512)])
    boxes = torch.from_numpy(np.stack([shape_cells(images[2 * i]) | shape_cells(images[2 * i + 1]) for i in range(count)]))
    attrs = np.array(attrs)
    labels = torch.from_numpy(attrs[:, 0] * 3 + attrs[:, 1])
    return tokens, labels, captions, boxes


def masks_within(allowed, n_mask, n_prev, gen):
    """Per row: n_mask (and n_prev >= n_mask, a superset) random positions among `allowed`."""
    B, L = allowed.shape
    score = torch.rand(B, L, generator=gen).masked_fill(~allowed, 2.0)
    order = torch.argsort(score, dim=1)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(L).expand(B, L))
    return rank < n_mask, rank < n_prev


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bundle", required=True)
    p.add_argument("--pairs", type=int, default=8000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=4e-4)
    p.add_argument("--steps", type=int, default=0, help="step count of the schedule (0: the wall-time budget alone)")
    p.add_argument("--max-minutes", type=float, default=20)
    p.add_argument("--edit-fraction", type=float, default=0.5)
    p.add_argument("--reuse-prob", type=float, default=0.5)
    p.add_argument("--drop-prob", type=float, default=0.1)
    p.add_argument("--ema", type=float, default=0.998)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--write", action="store_true", help="write the EMA weights into the bundle's transformer file")
    a = p.parse_args()
    setup_torch(a.seed)
    gen = torch.Generator().manual_seed(a.seed + 1)
    bundle = Bundle(a.bundle)
    model = bundle.model.train()
    caption = model.text is not None
    cfg = model.enat.config
    clock = Clock()
    tokens, labels, captions, boxes = make_pool(bundle, a.pairs)
    log(f"{a.pairs} pairs encoded in {clock.minutes():.1f} min; box sizes {sorted(set(boxes.sum(1).tolist()))}")
    if caption:
        tok = CLIPTokenizer(bundle.vocabulary)
        ids_all = torch.tensor([tok.tokenize(c) for c in captions], dtype=torch.long)
        empty_ids = torch.tensor(tok.tokenize(""), dtype=torch.long)
    buckets = {}
    for i, n in enumerate(boxes.sum(1).tolist()):
        buckets.setdefault(n, []).append(i)
    sizes = sorted(buckets)
    weights = np.array([len(buckets[n]) for n in sizes], float)
    weights /= weights.sum()
    bucket_rng = np.random.default_rng(a.seed + 2)
    opt, ema = optimiser_and_ema(model, a.lr)
    clock = Clock()
    warm, running, step = 100, {}, 0
    L = tokens.shape[1]
    while True:
        # Progress by steps or by wall time, whichever is further (as train_enat.py).
        progress = max(step / a.steps if a.steps else 0, clock.minutes() / a.max_minutes)
        if progress >= 1:
            break
        lr = set_learning_rate(opt, a.lr, step, warm, progress)
        editing = float(torch.rand((), generator=gen)) < a.edit_fraction
        if editing:
            n_box = int(bucket_rng.choice(sizes, p=weights))
            members = torch.tensor(buckets[n_box])
            pick = members[torch.randint(0, len(members), (a.batch,), generator=gen)]
            box = boxes[pick]
            x = torch.where(box, tokens[2 * pick + 1], tokens[2 * pick])
            cond_rows = 2 * pick + 1
            n_mask, n_prev = mask_counts(n_box, gen, a.reuse_prob)
            masking, prev_masking = masks_within(box, n_mask, n_prev, gen)
        else:
            cond_rows = torch.randint(0, len(tokens), (a.batch,), generator=gen)
            x = tokens[cond_rows]
            n_mask, n_prev = mask_counts(L, gen, a.reuse_prob)
            masking, prev_masking = masks_within(torch.ones_like(x, dtype=torch.bool), n_mask, n_prev, gen)
        drop = torch.rand(a.batch, generator=gen) < a.drop_prob
        if caption:
            cond = model.cond(input_ids=torch.where(drop[:, None], empty_ids[None], ids_all[cond_rows]))
        else:
            cond = model.cond(labels=torch.where(drop, torch.full_like(labels[cond_rows], cfg.num_classes), labels[cond_rows]))
        loss = train_step(model, ema, opt, x, masking, prev_masking if n_prev > n_mask else None, cond, a.ema)
        kind = "edit" if editing else "plain"
        running[kind] = loss.item() if kind not in running else 0.98 * running[kind] + 0.02 * loss.item()
        if step % 100 == 0:
            log(f"step {step} loss plain {running.get('plain', 0):.3f} edit {running.get('edit', 0):.3f} "
                f"lr {lr:.2e} {clock.minutes():.1f} min")
        step += 1
    log(json.dumps({"steps": step, "minutes": round(clock.minutes(), 1), "loss": running}))
    if a.write:
        bundle.save_transformer(ema)


if __name__ == "__main__":
    main()
