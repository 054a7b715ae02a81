#!/usr/bin/env python3
"""Judges edits (inpainting) of a class bundle with the PyTorch sampler, the way the Swift
EditQualityTests do: a real image of the dataset generator, the token cells under its shape's
bounding box regenerated, another class requested, the quality classifier asked whether it
sees the requested class.

    python edit_eval.py --bundle ../../Models/demo-shapes --cases 50 --grid /tmp/edits.png

The cases are those of tools/train/make_edit_cases.py (dataset seed 3); the PyTorch sampler
here is the Swift one's edit path (kept tokens visible from step 0 and never resampled, the
mask schedule over the regenerated count), so the figure is close to the Swift check's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import common  # noqa: F401  (first: sets the OpenMP wait policy before torch loads)
import numpy as np
import torch

from common import ROOT, log, setup_torch
import classifier as clf
import dataset
from enat import generate
from train_enat import build
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
from clip_reference import Tokenizer as CLIPTokenizer  # noqa: E402  (the one CLIP tokenizer)
from vqgan import Decoder, ReleasedEncoder, VQGANConfig, nearest_codes

CONFIG_KEYS = ("ch", "ch_mult", "num_res_blocks", "z_channels", "embed_dim", "n_embed", "out_ch", "resolution")
CELL = 8  # pixels per token at 64 px and 8x8 tokens


class Bundle:
    """A class bundle's transformer, decoder, codebook and encoder, as the server loads them."""

    def __init__(self, folder):
        from safetensors.torch import load_file
        self.folder = folder
        self.config = config = json.load(open(os.path.join(folder, "config.json")))
        t = config["transformer"]
        text = config.get("text_encoder", {})
        ns = argparse.Namespace(dim=t["hidden_size"], heads=t["num_heads"], enc=t["enc_depth"], dec=t["dec_depth"],
                                codebook=t["codebook_size"], mlp_ratio=t["mlp_ratio"],
                                text_dim=text.get("hidden_size", 0), text_layers=text.get("num_hidden_layers", 0),
                                text_heads=text.get("num_attention_heads", 1))
        kind = config["kind"]
        self.model = build(kind, ns, t["num_classes"]).eval()
        sd = load_file(os.path.join(folder, config["files"]["transformer"]))
        self.model.enat.load_state_dict({k: v.float() for k, v in sd.items()})
        if kind == "caption":
            sd = load_file(os.path.join(folder, config["files"]["text_encoder"]))
            self.model.text.load_state_dict({k: v.float() for k, v in sd.items()})
            self.vocabulary = os.path.join(folder, config["files"]["vocabulary"])
        self.sampler = config["sampler"]
        vq = load_file(os.path.join(folder, config["files"]["vqgan"]))
        cfg = VQGANConfig(**{k: config["vqgan"][k] for k in CONFIG_KEYS})
        self.decoder = Decoder(cfg).eval()
        self.decoder.load_state_dict({k[len("decoder."):]: v.float() for k, v in vq.items() if k.startswith("decoder.")})
        self.codebook = vq["quantize.embedding.weight"].float()
        self.encoder = ReleasedEncoder(cfg).eval()
        self.encoder.load_state_dict({k[len("encoder."):]: v.float() for k, v in vq.items() if k.startswith("encoder.")})

    def save_transformer(self, model):
        """Writes `model`'s transformer (F16) and, for captions, text tower (F32, token table
        F16) over the bundle's files, as export.py stores them."""
        from safetensors.torch import save_file
        files = self.config["files"]
        sd = {k: v.detach().half().contiguous() for k, v in model.enat.state_dict().items()}
        save_file(sd, os.path.join(self.folder, files["transformer"]), metadata={"format": "pt"})
        if model.text is not None:
            key = "text_model.embeddings.token_embedding.weight"
            sd = {k: (v.half() if k == key else v.float()).detach().contiguous() for k, v in model.text.state_dict().items()}
            save_file(sd, os.path.join(self.folder, files["text_encoder"]), metadata={"format": "pt"})

    @torch.no_grad()
    def encode(self, images_u8):
        x = torch.from_numpy(images_u8).float().permute(0, 3, 1, 2) / 255
        return nearest_codes(self.encoder(x), self.codebook).view(len(images_u8), -1)

    @torch.no_grad()
    def decode_ids(self, ids):
        """[B, 8, 8] ids -> [B, 3, H, W] in [0, 1] (evaluate.py's VQGAN interface)."""
        return self.decoder(self.codebook[ids].permute(0, 3, 1, 2)).clamp(0, 1)

    @torch.no_grad()
    def decode(self, ids):
        z = self.codebook[ids.view(-1, 8, 8)].permute(0, 3, 1, 2)
        return (self.decoder(z).clamp(0, 1).permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)


def shape_box(image_u8, threshold=24):
    """(x0, y0, x1, y1), end exclusive: the bounding box of the pixels unlike the background."""
    diff = np.abs(image_u8.astype(np.int32) - np.array(dataset.BACKGROUND)).max(-1) > threshold
    ys, xs = np.nonzero(diff)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def shape_cells(image_u8):
    """[64] bool: the token cells under the shape's bounding box (a cell is regenerated when
    any of its pixels is masked, as the server maps a pixel mask to tokens)."""
    x0, y0, x1, y1 = shape_box(image_u8)
    cells = np.zeros((8, 8), bool)
    cells[y0 // CELL:(y1 - 1) // CELL + 1, x0 // CELL:(x1 - 1) // CELL + 1] = True
    return cells.reshape(-1)


def requested_class(source_class, index):
    return (source_class + 1 + index % 11) % 12


def conditions(bundle, condition):
    """(cond, uncond) of one sample: a class label, or a caption (text tower run here)."""
    model = bundle.model
    if model.text is None:
        return {"labels": torch.tensor([condition])}, {"labels": torch.tensor([model.enat.config.num_classes])}
    tok = CLIPTokenizer(bundle.vocabulary)
    return ({"text": model.text(torch.tensor([tok.tokenize(condition)]))},
            {"text": model.text(torch.tensor([tok.tokenize("")]))})


@torch.no_grad()
def edits(bundle, sources, tokens, conds, seed):
    """Each source's shape box repainted for its condition; decoded uint8 images."""
    gen = torch.Generator().manual_seed(seed)
    s = bundle.sampler
    out_ids = []
    for i in range(len(sources)):
        regen = torch.from_numpy(shape_cells(sources[i]))
        cond, uncond = conditions(bundle, conds[i])
        start = torch.where(regen, torch.full_like(tokens[i], bundle.model.enat.config.mask_id), tokens[i])
        out_ids.append(generate(bundle.model.enat, cond, uncond, generator=gen, start=start[None], **s)[0])
    return bundle.decode(torch.stack(out_ids))


def caption_of(attrs):
    """The full caption of (shape, colour, size, position) indices."""
    shape, colour, size, pos = (int(v) for v in attrs)
    where = "in the center" if dataset.POSITIONS[pos] == "center" else f"in the {dataset.POSITIONS[pos]}"
    return f"a {dataset.SIZES[size]} {dataset.COLOURS[colour]} {dataset.SHAPES[shape]} {where}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bundle", default=os.path.join(ROOT, "Models", "demo-shapes"))
    p.add_argument("--classifier", default=os.path.join(ROOT, "Models", "quality-classifier", "classifier.safetensors"))
    p.add_argument("--cases", type=int, default=50)
    p.add_argument("--seed", type=int, default=3, help="dataset seed of the source images (3: the Swift check's)")
    p.add_argument("--samples", type=int, default=0, help="also judge this many plain samples (generation quality)")
    p.add_argument("--grid", help="PNG of the sources (top) and the edits (bottom)")
    p.add_argument("--samples-grid", help="PNG of the plain class samples, one column per class (the bundle's samples.png)")
    a = p.parse_args()
    if a.samples_grid and a.samples < 12:
        p.error("--samples-grid needs --samples 12 or more (a row per seed, a column per class)")
    setup_torch(0)
    bundle = Bundle(a.bundle)
    if a.samples_grid and bundle.model.text is not None:
        p.error("--samples-grid is for class bundles (one column per class)")
    judge = clf.load(a.classifier)
    images, attrs, _ = dataset.generate(a.seed, a.cases)
    source = attrs[:, 0] * 3 + attrs[:, 1]
    labels = [requested_class(int(c), i) for i, c in enumerate(source)]
    caption = bundle.model.text is not None
    if caption:
        # Another class, the same size and position: the caption names all four.
        wanted = np.array([[c // 3, c % 3, attrs[i, 2], attrs[i, 3]] for i, c in enumerate(labels)])
        result = edits(bundle, images, bundle.encode(images), [caption_of(w) for w in wanted], seed=1)
        hit = (judge.predict(result) == wanted).all(1)
        log(f"{a.bundle}: {hit.mean():.3f} of {a.cases} edits match every attribute of their caption")
    else:
        result = edits(bundle, images, bundle.encode(images), labels, seed=1)
        pred = judge.predict(result)
        log(f"{a.bundle}: {np.mean(pred[:, 0] * 3 + pred[:, 1] == np.array(labels)):.3f} of {a.cases} edits "
            f"recognised as the requested class")
    if a.samples:
        from evaluate import caption_cases, sample_caption, sample_class
        if caption:
            caps, cases = caption_cases(a.samples, seed=12)
            out = sample_caption(bundle.model, bundle, CLIPTokenizer(bundle.vocabulary), caps, bundle.sampler, seed=13)
            log(f"plain samples: {(judge.predict(out) == cases).all(1).mean():.3f} of {a.samples} match every attribute")
        else:
            wanted = [c % 12 for c in range(a.samples)]
            out = sample_class(bundle.model, bundle, wanted, bundle.sampler, seed=11)
            pred = judge.predict(out)
            log(f"plain samples: {np.mean(pred[:, 0] * 3 + pred[:, 1] == np.array(wanted)):.3f} of {a.samples} recognised")
            if a.samples_grid:
                # Sample c is of class c % 12: rows of 12 are one seed each, columns one class each.
                from PIL import Image
                rows = [np.concatenate(list(out[r:r + 12]), 1) for r in range(0, a.samples - a.samples % 12, 12)]
                Image.fromarray(np.concatenate(rows, 0)).save(a.samples_grid)
    if a.grid:
        from PIL import Image
        Image.fromarray(np.concatenate([np.concatenate(list(images), 1), np.concatenate(list(result), 1)], 0)).save(a.grid)


if __name__ == "__main__":
    main()
