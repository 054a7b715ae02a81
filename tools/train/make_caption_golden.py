#!/usr/bin/env python3
"""Writes `Tests/ENATTests/Fixtures/caption_enat_tiny.safetensors`: a forward golden file of the
caption-conditioned ENAT (README, "Captions", and `enat.py` here) with seeded random
weights, for the Swift parity test.

Layout (as `../shared/golden/enat_tiny.safetensors`):
- `weights.<key>`: ENAT keys (`x_embedder.*`, `blocks.k.*`, `prev_proj.*`, `norm.*`, `mlm_layer.*`,
  `text_proj.*`, `text_pool_proj.*`; no `y_embedder.*`) and the CLIP text tower under Hugging Face
  `CLIPTextModel` keys (`text_model.embeddings.token_embedding.weight`, ...).
- `case.ids` [2, L], `case.ids_prev` [2, L] (a superset of masked positions),
  `case.input_ids` [2, 77]: the captions of the two samples (metadata `captions`; the second is
  the empty caption, i.e. the unconditional stream).
- `expect.text.last_hidden_state` [2, 77, Dt], `expect.text.pooled` [2, Dt];
  `expect.full.*` (ids, no prev), `expect.prev.*` (ids_prev), `expect.reuse.*` (ids with
  prev = (expect.prev.feat, ids_prev == mask)): `logits` [2, L, V] and `feat` [2, L, D].
- metadata `config`: the ENAT config (num_classes 0) with `text_encoder` (HF CLIPTextConfig keys).

Expectations are computed in float64 from the float32 weights. The script also re-derives them
with the independent NumPy reference (tools/golden/enat_reference.py, with the text tokens
prepended to every block's context) and stops if the two disagree by more than 1e-6.

    /opt/torch-venv/bin/python tools/train/make_caption_golden.py [--vocab bpe_simple_vocab_16e6.txt.gz]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools", "golden"))

from clip_text import CLIPTextConfig, CLIPTextModel  # noqa: E402
from clip_reference import Tokenizer as CLIPTokenizer  # noqa: E402  (the one CLIP tokenizer)
from enat import ENAT, ENATConfig  # noqa: E402
from enat_reference import Config as RefConfig, ENATReference  # noqa: E402

CAPTIONS = ["a large red circle in the top left", ""]
TEXT = CLIPTextConfig(hidden_size=8, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2)
ENAT_CFG = ENATConfig(latent_size=4, hidden_size=32, num_heads=4, enc_depth=2, dec_depth=1,
                      codebook_size=64, num_classes=0)


def randomize(model: torch.nn.Module, gen: torch.Generator):
    """Every parameter random at the scale of the official tiny golden files, so every layer matters."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.copy_(torch.randn(p.shape, generator=gen) * 0.05)
            elif p.dim() == 1:  # layer norm weights
                p.copy_(1 + torch.randn(p.shape, generator=gen) * 0.1)
            elif "embedding" in name:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.08)


def reference_forward(weights, input_text, ids, prev=None):
    """Independent NumPy forward: the class reference with c = pooled projection (as the label's
    table row) and the projected text tokens prepended to every block's context."""
    cfg = RefConfig(ENAT_CFG.latent_size, ENAT_CFG.hidden_size, ENAT_CFG.num_heads, ENAT_CFG.enc_depth,
                    ENAT_CFG.dec_depth, ENAT_CFG.codebook_size, 0, ENAT_CFG.mlp_ratio)
    last, pooled = input_text
    w = dict(weights)
    c = pooled @ w["text_pool_proj.weight"].T.astype(np.float64) + w["text_pool_proj.bias"]
    w["y_embedder.embedding_table.weight"] = c  # row b = sample b's condition
    ref = ENATReference(cfg, w)
    outs = []
    for b in range(len(ids)):
        T = last[b] @ ref.w["text_proj.weight"].T + ref.w["text_proj.bias"]
        orig = ENATReference.block

        def block(self, k, x, ctx, cvec, T=T):
            return orig(self, k, x, T if ctx is None or len(ctx) == 0 else np.concatenate([T, ctx]), cvec)

        ref.block = block.__get__(ref)
        outs.append(ref.forward_one(ids[b], b, None if prev is None else (prev[0][b], prev[1][b])))
    return [np.stack([o[i] for o in outs]) for i in range(3)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vocab", default=os.path.join(ROOT, "Models", "demo-captions", "bpe_simple_vocab_16e6.txt.gz"))
    parser.add_argument("--out", default=os.path.join(ROOT, "Tests", "ENATTests", "Fixtures", "caption_enat_tiny.safetensors"))
    args = parser.parse_args()
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(20261123)
    text_model = CLIPTextModel(TEXT)
    model = ENAT(ENAT_CFG, text_width=TEXT.hidden_size)
    randomize(text_model, gen)
    randomize(model, gen)
    L, M = ENAT_CFG.tokens, ENAT_CFG.mask_id
    rng = np.random.default_rng(7)
    ids = rng.integers(0, ENAT_CFG.codebook_size, size=(2, L)).astype(np.int32)
    ids_prev = ids.copy()
    for b in range(2):
        order = rng.permutation(L)
        ids_prev[b, order[:13]] = M  # 13 masked before
        ids[b, order[:9]] = M  # 9 of them still masked now
    tok = CLIPTokenizer(args.vocab)
    input_ids = np.array([tok.tokenize(c) for c in CAPTIONS], dtype=np.int32)

    text_model = text_model.double()
    model = model.double()
    t = {}
    with torch.no_grad():
        last, pooled = text_model(torch.from_numpy(input_ids).long())
        text = (last, pooled)
        tid, tprev = torch.from_numpy(ids).long(), torch.from_numpy(ids_prev).long()
        full = model(tid, text=text)
        prev = model(tprev, text=text)
        reuse = model(tid, text=text, prev=(prev[1], prev[2]))
    for k, v in model.state_dict().items():
        t["weights." + k] = v.float().numpy()
    for k, v in text_model.state_dict().items():
        t["weights." + k] = v.float().numpy()
    t["case.ids"], t["case.ids_prev"], t["case.input_ids"] = ids, ids_prev, input_ids
    t["expect.text.last_hidden_state"] = last.float().numpy()
    t["expect.text.pooled"] = pooled.float().numpy()
    for name, out in (("full", full), ("prev", prev), ("reuse", reuse)):
        t[f"expect.{name}.logits"] = out[0].float().numpy()
        t[f"expect.{name}.feat"] = out[1].float().numpy()

    # Cross-check with the independent NumPy reference (float64 from the stored float32 weights).
    w = {k[8:]: v.astype(np.float64) for k, v in t.items() if k.startswith("weights.") and not k.startswith("weights.text_model.")}
    text64 = (last.numpy(), pooled.numpy())
    worst = 0.0
    r_full = reference_forward(w, text64, ids)
    r_prev = reference_forward(w, text64, ids_prev)
    r_reuse = reference_forward(w, text64, ids, prev=(t["expect.prev.feat"].astype(np.float64), ids_prev == M))
    for name, out in (("full", r_full), ("prev", r_prev), ("reuse", r_reuse)):
        for i, what in ((0, "logits"), (1, "feat")):
            err = float(np.abs(out[i] - t[f"expect.{name}.{what}"]).max())
            print(f"reference vs torch {name}.{what}: {err:.2e}")
            worst = max(worst, err)
    if worst > 1e-5:
        print("the NumPy reference disagrees", file=sys.stderr)
        return 1
    config = ENAT_CFG.to_dict()
    config["text_encoder"] = {k: v for k, v in TEXT.to_dict().items() if k not in ("bos_token_id", "pad_token_id")}
    meta = {"config": json.dumps(config), "captions": json.dumps(CAPTIONS),
            "note": "caption ENAT (README, Captions); text weights under text_model.*; reuse uses prev = (expect.prev.feat, ids_prev == mask)"}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    save_file(t, args.out, metadata=meta)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
