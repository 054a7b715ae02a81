#!/usr/bin/env python3
"""Samples the trained ENATs with the PyTorch sampler (enat.generate: the official 8-step
algorithm with reuse and guidance), decodes with the VQGAN and judges the images with the
quality classifier.

- class model: N samples per class; recognised = classifier's shape and colour are the class's.
- caption model: full captions ("a large red circle in the top left") over random attribute
  combinations; matched = every attribute the caption names is the classifier's.
`--sweep` tries a few sampler settings and stores the best in OUT/sampler_settings.json (read by
export.py). Writes OUT/eval_stats.json and sample grids OUT/samples_{class,caption}.png.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys

import common  # noqa: F401  (first: sets the OpenMP wait policy before torch loads)
import numpy as np
import torch
from PIL import Image

from common import OUT, VOCAB, log, setup_torch
import dataset
import classifier as clf
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
from clip_reference import Tokenizer as CLIPTokenizer  # noqa: E402  (the one CLIP tokenizer, checked against the official ids)
from enat import generate
from train_enat import Conditioned, build
from vqgan import VQGAN, VQGANConfig


def load_vqgan():
    ck = torch.load(os.path.join(OUT, "vqgan.pt"), map_location="cpu")
    m = VQGAN(VQGANConfig(**ck["config"]))
    m.load_state_dict(ck["state_dict"])
    return m.eval()


def load_enat(kind):
    ck = torch.load(os.path.join(OUT, f"enat_{kind}.pt"), map_location="cpu")
    e, t = ck["meta"]["enat"], ck["meta"].get("text", {})
    ns = argparse.Namespace(dim=e["hidden_size"], heads=e["num_heads"], enc=e["enc_depth"], dec=e["dec_depth"],
                            codebook=e["codebook_size"], mlp_ratio=e["mlp_ratio"], text_dim=t.get("hidden_size", 0),
                            text_layers=t.get("num_hidden_layers", 0), text_heads=t.get("num_attention_heads", 1))
    m = build(kind, ns, e["num_classes"])
    # The bundles store the transformer (and the text token table) as F16: judge those weights.
    m.load_state_dict({k: v.half().float() if k.startswith("enat.") or k.endswith("token_embedding.weight") else v
                       for k, v in ck["state_dict"].items()})
    return m.eval()


def to_u8(x):
    return (x.clamp(0, 1).permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)


@torch.no_grad()
def sample_class(model: Conditioned, vq, labels, settings, seed, batch=48):
    imgs = []
    gen = torch.Generator().manual_seed(seed)
    for i in range(0, len(labels), batch):
        lab = torch.tensor(labels[i:i + batch])
        ids = generate(model.enat, {"labels": lab}, {"labels": torch.full_like(lab, model.enat.config.num_classes)},
                       generator=gen, **settings)
        imgs.append(to_u8(vq.decode_ids(ids.view(-1, 8, 8))))
    return np.concatenate(imgs)


@torch.no_grad()
def sample_caption(model: Conditioned, vq, tok, captions, settings, seed, batch=48):
    imgs = []
    gen = torch.Generator().manual_seed(seed)
    empty = torch.tensor([tok.tokenize("")])
    for i in range(0, len(captions), batch):
        ids_txt = torch.tensor([tok.tokenize(c) for c in captions[i:i + batch]])
        cond = {"text": model.text(ids_txt)}
        ue = model.text(empty)
        uncond = {"text": (ue[0].expand(len(ids_txt), -1, -1), ue[1].expand(len(ids_txt), -1))}
        ids = generate(model.enat, cond, uncond, generator=gen, **settings)
        imgs.append(to_u8(vq.decode_ids(ids.view(-1, 8, 8))))
    return np.concatenate(imgs)


def caption_cases(n, seed):
    """n full captions over attribute combinations (balanced, shuffled) with their attributes."""
    combos = list(itertools.product(range(4), range(3), range(2), range(5)))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(combos))
    cases = [combos[order[i % len(combos)]] for i in range(n)]
    caps = []
    for s, c, z, p in cases:
        where = "in the center" if dataset.POSITIONS[p] == "center" else f"in the {dataset.POSITIONS[p]}"
        caps.append(f"a {dataset.SIZES[z]} {dataset.COLOURS[c]} {dataset.SHAPES[s]} {where}")
    return caps, np.array(cases)


def grid(images, cols, path):
    rows = (len(images) + cols - 1) // cols
    g = np.full((rows * 66 + 2, cols * 66 + 2, 3), 255, np.uint8)
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        g[2 + r * 66:2 + r * 66 + 64, 2 + c * 66:2 + c * 66 + 64] = im
    Image.fromarray(g).save(path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kind", choices=["class", "caption", "both"], default="both")
    p.add_argument("--per-class", type=int, default=10)
    p.add_argument("--captions", type=int, default=120)
    p.add_argument("--sweep", action="store_true")
    a = p.parse_args()
    setup_torch(5)
    vq = load_vqgan()
    judge = clf.load()
    stats_path = os.path.join(OUT, "eval_stats.json")
    stats = json.load(open(stats_path)) if os.path.exists(stats_path) else {}
    settings_path = os.path.join(OUT, "sampler_settings.json")
    chosen = json.load(open(settings_path)) if os.path.exists(settings_path) else {}
    candidates = [dict(steps=8, cfg_scale=2.5, mask_temp=1.5, samp_temp=6.0)]
    if a.sweep:
        candidates = [dict(steps=8, cfg_scale=g, mask_temp=m, samp_temp=t)
                      for g, m, t in [(2.5, 1.5, 6.0), (2.5, 1.5, 2.0), (4.0, 1.5, 2.0), (2.5, 1.5, 1.0), (4.0, 3.0, 1.0),
                                      (1.0, 1.5, 1.0), (2.5, 1.0, 1.0), (2.0, 0.5, 1.0), (3.0, 1.5, 1.5)]]
    if a.kind in ("class", "both"):
        model = load_enat("class")
        labels = [c for c in range(12) for _ in range(a.per_class)]
        best = None
        for s in candidates:
            imgs = sample_class(model, vq, labels, s, seed=11)
            pred = judge.predict(imgs)
            rec = float(np.mean(pred[:, 0] * 3 + pred[:, 1] == np.array(labels)))
            log(f"class {s}: recognised {rec:.3f}")
            if best is None or rec > best[0]:
                best = (rec, s, imgs)
        chosen["class"] = best[1]
        stats["class"] = {"samples": len(labels), "recognised": best[0], "settings": best[1]}
        grid(best[2][[c * a.per_class + j for j in range(min(8, a.per_class)) for c in range(12)]], 12,
             os.path.join(OUT, "samples_class.png"))
    if a.kind in ("caption", "both"):
        model = load_enat("caption")
        tok = CLIPTokenizer(VOCAB)
        caps, cases = caption_cases(a.captions, seed=12)
        best = None
        for s in candidates:
            imgs = sample_caption(model, vq, tok, caps, s, seed=13)
            pred = judge.predict(imgs)
            per_attr = (pred == cases).mean(0)
            allm = float((pred == cases).all(1).mean())
            log(f"caption {s}: all attributes {allm:.3f}, per attribute {per_attr.round(3).tolist()}")
            if best is None or allm > best[0]:
                best = (allm, s, imgs, per_attr)
        chosen["caption"] = best[1]
        stats["caption"] = {"samples": len(caps), "all_attributes_match": best[0],
                            "per_attribute": dict(zip([h for h, _ in clf.HEADS], best[3].round(4).tolist())),
                            "settings": best[1]}
        grid(best[2][:48], 12, os.path.join(OUT, "samples_caption.png"))
        with open(os.path.join(OUT, "samples_caption.txt"), "w") as f:
            f.write("\n".join(caps[:48]) + "\n")
    if a.sweep:
        json.dump(chosen, open(settings_path, "w"), indent=1)
    json.dump(stats, open(stats_path, "w"), indent=1)
    log(json.dumps(stats))


if __name__ == "__main__":
    main()
