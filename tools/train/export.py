#!/usr/bin/env python3
"""Writes the model bundles (the bundle format of the README, read by Sources/ModelBundle):

Transformer weights are stored as F16 (half the size; evaluate.py judges the F16-rounded
weights, so its figures are those of the served model); the VQGAN stays F32.

- Models/demo-shapes:   class ENAT (12 shape classes) + VQGAN decoder (+ the released
  encoder as F16: the VQGAN's own when train_vqgan.py had --released-encoder, else
  train_encoder.py's when OUT/encoder.pt exists).
- Models/demo-captions: caption ENAT + CLIP text tower (HF CLIPTextModel keys; the 49408-row
  token embedding stored as F16 to keep the bundle small) + the CLIP BPE vocabulary + VQGAN.
- Models/quality-classifier: the quality classifier (classifier.py) and its config.

Weights are the EMA weights of the checkpoints in OUT; the sampler defaults are read from
OUT/sampler_settings.json when evaluate.py has chosen them, else the official ones.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil

import common  # noqa: F401  (first: sets the OpenMP wait policy before torch loads)
import torch
from safetensors.torch import save_file

from common import OUT, ROOT, VOCAB, VOCAB_NAME
import dataset
from classifier import HEADS

BUNDLES = ["demo-shapes", "demo-captions", "quality-classifier"]
OFFICIAL_SAMPLER = {"steps": 8, "cfg_scale": 2.5, "mask_temp": 1.5, "samp_temp": 6.0}


def vqgan_tensors():
    ck = torch.load(os.path.join(OUT, "vqgan.pt"), map_location="cpu")
    sd = {k: v.float().contiguous() for k, v in ck["state_dict"].items()
          if k.startswith("decoder.") or k == "quantize.embedding.weight"}
    cfg = dict(ck["config"])
    # The released tokenizer's encoder, stored as F16: it lets the server turn images into
    # tokens (edits). Either the VQGAN's own (train_vqgan.py --released-encoder: the encoder the
    # ENATs' tokens came from) or one fitted to the frozen decoder afterwards (train_encoder.py).
    encoder = os.path.join(OUT, "encoder.pt")
    if ck.get("released_encoder"):
        sd.update({k: v.half().contiguous() for k, v in ck["state_dict"].items() if k.startswith("encoder.")})
    elif os.path.exists(encoder):
        sd.update({k: v.half().contiguous() for k, v in torch.load(encoder, map_location="cpu")["state_dict"].items()})
    return sd, cfg


def sampler_settings(kind):
    path = os.path.join(OUT, "sampler_settings.json")
    if os.path.exists(path):
        return {**OFFICIAL_SAMPLER, **json.load(open(path)).get(kind, {})}
    return dict(OFFICIAL_SAMPLER)


def write_bundle(folder, config, files):
    os.makedirs(folder, exist_ok=True)
    for name, tensors in files.items():
        save_file(tensors, os.path.join(folder, name), metadata={"format": "pt"})
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--models", default=os.path.join(ROOT, "Models"))
    p.add_argument("--bundles", nargs="+", default=BUNDLES, choices=BUNDLES, help="which of them to write (default: all)")
    a = p.parse_args()
    vq, vq_cfg = vqgan_tensors()  # OUT/vqgan.pt, for whichever bundles are written
    vq_cfg = {k: vq_cfg[k] for k in ("ch", "ch_mult", "num_res_blocks", "z_channels", "embed_dim", "n_embed", "out_ch", "resolution")}

    if "demo-shapes" in a.bundles:
        ck = torch.load(os.path.join(OUT, "enat_class.pt"), map_location="cpu")
        sd = {k[len("enat."):]: v.half().contiguous() for k, v in ck["state_dict"].items() if k.startswith("enat.")}
        meta = ck["meta"]
        write_bundle(os.path.join(a.models, "demo-shapes"), {
            "format": "enat-bundle", "format_version": 1, "id": "demo-shapes", "kind": "class",
            "description": "Demo class-conditional ENAT trained by tools/train on procedurally drawn shapes "
                           "(4 shapes x 3 colours, 64x64 px, 8x8 tokens).",
            "resolution": 64, "transformer": meta["enat"], "vqgan": vq_cfg, "sampler": sampler_settings("class"),
            "class_names": dataset.CLASS_NAMES,
            "files": {"transformer": "transformer.safetensors", "vqgan": "vqgan.safetensors"},
        }, {"transformer.safetensors": sd, "vqgan.safetensors": vq})

    if "demo-captions" in a.bundles:
        ck = torch.load(os.path.join(OUT, "enat_caption.pt"), map_location="cpu")
        sd = {k[len("enat."):]: v.half().contiguous() for k, v in ck["state_dict"].items() if k.startswith("enat.")}
        text = {k[len("text."):]: v.float().contiguous() for k, v in ck["state_dict"].items() if k.startswith("text.")}
        key = "text_model.embeddings.token_embedding.weight"
        text[key] = text[key].half()
        meta = ck["meta"]
        tcfg = {k: meta["text"][k] for k in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                                             "num_attention_heads", "max_position_embeddings", "layer_norm_eps",
                                             "hidden_act", "eos_token_id")}
        folder = os.path.join(a.models, "demo-captions")
        write_bundle(folder, {
            "format": "enat-bundle", "format_version": 1, "id": "demo-captions", "kind": "caption",
            "description": "Demo caption-conditioned ENAT trained by tools/train on procedurally drawn shapes; "
                           "captions name a shape (circle, square, triangle, cross), a colour (red, green, blue), "
                           "a size (small, large) and a position (top left, top right, bottom left, bottom right, center).",
            "resolution": 64, "transformer": meta["enat"], "vqgan": vq_cfg, "sampler": sampler_settings("caption"),
            "class_names": [], "text_encoder": tcfg,
            "files": {"transformer": "transformer.safetensors", "vqgan": "vqgan.safetensors",
                      "text_encoder": "text_encoder.safetensors", "vocabulary": VOCAB_NAME},
        }, {"transformer.safetensors": sd, "vqgan.safetensors": vq, "text_encoder.safetensors": text})
        shutil.copyfile(VOCAB, os.path.join(folder, VOCAB_NAME))

    if "quality-classifier" in a.bundles:
        folder = os.path.join(a.models, "quality-classifier")
        os.makedirs(folder, exist_ok=True)
        shutil.copyfile(os.path.join(OUT, "classifier.safetensors"), os.path.join(folder, "classifier.safetensors"))
        stats = json.load(open(os.path.join(OUT, "classifier_stats.json")))
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump({
                "description": "Quality classifier of the demo models (tools/train/classifier.py): 2x2 mean pooling of "
                               "the [0,1] RGB image to 32x32x3 in (y, x, channel) order, fc1 3072->256, ReLU, "
                               "fc2 256->128, ReLU, fc3 128->14; logits of the heads below in order.",
                "input": {"side": 64, "pool": 2, "layout": "yxc"},
                "layers": ["fc1", "fc2", "fc3"],
                "heads": [{"name": n, "labels": list(v)} for n, v in HEADS],
                "class_names": dataset.CLASS_NAMES,
                "class_of": "shape * 3 + colour",
                "heldout_accuracy": stats["accuracy"],
            }, f, indent=2)
            f.write("\n")
    for name in a.bundles:
        folder = os.path.join(a.models, name)
        size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
        print(f"{folder}: {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
