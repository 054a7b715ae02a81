#!/usr/bin/env python3
"""Writes small golden files the Swift engine has never seen, in the exact format of
../shared/golden/ (see its README.md), into Tests/GoldenCheckTests/Fixtures/.

Expectations come from the NumPy references beside this script (enat_reference.py,
vqgan_reference.py), which reproduce the official golden files (run them to check). Weights are
random with the scale of the official tiny files (matrices N(0, 0.08^2), biases N(0, 0.05^2),
norm weights 1 + N(0, 0.1^2), convolutions N(0, (1.5/sqrt(fan_in))^2), codebook N(0, 1)), from
fixed seeds, so every run writes the same bytes.

    python3 tools/golden/make_unseen_golden.py [--out DIR]

Each trajectory's sampler metadata names its forward file (`"weights": "<stem>"`), which the
checker looks up in the same directory.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from enat_reference import (Config, ENATReference, schedule, step_ids_out, validate_forward,  # noqa: E402
                            validate_trajectory, guided_logp32)
from safetensors_io import write  # noqa: E402
from vqgan_reference import VQGANReference, expected_keys, validate as validate_vqgan  # noqa: E402

OUT = os.path.normpath(os.path.join(HERE, "..", "..", "Tests", "GoldenCheckTests", "Fixtures"))
F32, I32 = np.float32, np.int32
# A re-masking decision closer than this to a tie could flip with float rounding: pick another seed.
MIN_GAP = 1e-4


def f32(x):
    return np.asarray(x, dtype=F32)


# ----------------------------------------------------------------------------- ENAT weights

def enat_weights(cfg: Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
    D, V, h = cfg.hidden_size, cfg.codebook_size, int(cfg.hidden_size * cfg.mlp_ratio)
    w: dict[str, np.ndarray] = {}

    def mat(name, rows, cols):
        w[name + ".weight"] = f32(rng.normal(0, 0.08, (rows, cols)))
        w[name + ".bias"] = f32(rng.normal(0, 0.05, rows))

    def norm(name):
        w[name + ".weight"] = f32(1 + rng.normal(0, 0.1, D))
        w[name + ".bias"] = f32(rng.normal(0, 0.05, D))

    for k in range(cfg.enc_depth + cfg.dec_depth):
        p = f"blocks.{k}"
        mat(p + ".adaLN_modulation.1", 8 * D, D)
        mat(p + ".attn.kv.A", 2 * D, D)
        mat(p + ".attn.kv.B", 2 * D, D)
        mat(p + ".attn.proj", D, D)
        mat(p + ".attn.q", D, D)
        mat(p + ".mlp.fc1", h, D)
        mat(p + ".mlp.fc2", D, h)
    w["mlm_layer.bias"] = f32(rng.normal(0, 0.05, (1, 1, V + 1)))
    mat("mlm_layer.fc", D, D)
    norm("mlm_layer.ln")
    norm("norm")
    # Unused by the computation but present in the official checkpoints: loaders must skip it.
    mat("prev_embedder.fc1", h, D)
    mat("prev_embedder.fc2", D, h)
    mat("prev_proj.mlp.fc1", h, D)
    mat("prev_proj.mlp.fc2", D, h)
    norm("prev_proj.norm")
    norm("x_embedder.LayerNorm")
    w["x_embedder.position_embeddings.weight"] = f32(rng.normal(0, 0.08, (cfg.tokens, D)))
    w["x_embedder.word_embeddings.weight"] = f32(rng.normal(0, 0.08, (V + 1, D)))
    w["y_embedder.embedding_table.weight"] = f32(rng.normal(0, 0.08, (cfg.num_classes + 1, D)))
    return w


@dataclass(frozen=True)
class ForwardSpec:
    stem: str
    config: Config
    labels: tuple[int, ...]
    masked: int       # masked tokens per sample in case.ids
    masked_prev: int  # masked tokens per sample in case.ids_prev (a superset)
    seed: int


@dataclass(frozen=True)
class TrajectorySpec:
    forward: ForwardSpec
    labels: tuple[int, ...]
    steps: int
    cfg_scale: float
    mask_temp: float
    samp_temp: float
    seed: int

    @property
    def stem(self) -> str:
        return self.forward.stem + "_trajectory"


def make_forward(spec: ForwardSpec, out_dir: str) -> tuple[str, int]:
    cfg, rng = spec.config, np.random.default_rng(spec.seed)
    weights = enat_weights(cfg, rng)
    B, L, M = len(spec.labels), cfg.tokens, cfg.mask_id
    ids = rng.integers(0, cfg.codebook_size, (B, L)).astype(I32)
    ids_prev = ids.copy()
    for b in range(B):
        order = rng.permutation(L)
        ids_prev[b, order[: spec.masked_prev]] = M
        ids[b, order[: spec.masked]] = M  # the first `masked` of the same order: a subset
    labels = np.array(spec.labels, I32)
    model = ENATReference(cfg, weights)
    full = model.forward(ids, labels)
    prev = model.forward(ids_prev, labels)
    prev_feat = f32(prev[1])  # what the checker reads back
    reuse = model.forward(ids, labels, prev=(prev_feat, ids_prev == M))
    tensors = {f"weights.{k}": v for k, v in weights.items()}
    tensors.update({"case.ids": ids, "case.ids_prev": ids_prev, "case.labels": labels})
    for name, (logits, feat, _) in (("full", full), ("prev", prev), ("reuse", reuse)):
        tensors[f"expect.{name}.logits"] = f32(logits)
        tensors[f"expect.{name}.feat"] = f32(feat)
    path = os.path.join(out_dir, spec.stem + ".safetensors")
    return path, write(path, tensors, {"config": cfg.to_json()})


def make_trajectory(spec: TrajectorySpec, out_dir: str) -> tuple[str, int, float]:
    fwd = spec.forward
    cfg = fwd.config
    model = ENATReference(cfg, enat_weights(cfg, np.random.default_rng(fwd.seed)))
    rng = np.random.default_rng(spec.seed)
    B, L, M, V = len(spec.labels), cfg.tokens, cfg.mask_id, cfg.codebook_size
    labels = np.array(spec.labels, I32)
    uncond = np.full(B, cfg.num_classes, I32)
    ids = np.full((B, L), M, I32)
    prev_c = prev_u = None
    tensors: dict[str, np.ndarray] = {"case.labels": labels}
    min_gap = np.inf
    for s in range(spec.steps):
        sch = schedule(s, spec.steps, L, spec.cfg_scale, spec.mask_temp, spec.samp_temp)
        lc, fc, mc = model.forward(ids, labels, prev_c)
        lu, fu, mu = model.forward(ids, uncond, prev_u)  # the unconditional stream runs at every step
        prev_c, prev_u = (fc, mc), (fu, mu)
        cond, unc = f32(lc), f32(lu)
        gumbel = f32(-np.log(-np.log(rng.uniform(np.finfo(np.float64).tiny, 1.0, (B, L)))))
        sampled = ids.copy()
        outs = []
        for b in range(B):
            logp = guided_logp32(cond[b], unc[b], sch.cfg).astype(np.float64)
            for pos in np.flatnonzero(ids[b] == M):
                z = logp[pos] / sch.t_samp
                p = np.exp(z - z.max())
                sampled[b, pos] = rng.choice(V, p=p / p.sum())
            out, gap = step_ids_out(ids[b], sampled[b], gumbel[b], cond[b], unc[b], sch, M)
            min_gap = min(min_gap, gap)
            outs.append(out)
        ids_out = np.stack(outs).astype(I32)
        assert int((ids_out == M).sum(1).max()) == sch.mask_count == int((ids_out == M).sum(1).min()), \
            f"{spec.stem} step {s}: a tie left a different masked count; change the seed"
        tensors.update({
            f"step{s}.ids_in": ids.copy(), f"step{s}.cond_logits": cond, f"step{s}.uncond_logits": unc,
            f"step{s}.sampled_ids": sampled.astype(I32), f"step{s}.gumbel": gumbel, f"step{s}.ids_out": ids_out,
            f"step{s}.cfg_scale_used": np.array([sch.cfg], F32),
            f"step{s}.num_masked_out": np.array([sch.mask_count], I32),
        })
        ids = ids_out
    assert not np.any(ids == M)
    tensors["final.tokens"] = ids
    if min_gap < MIN_GAP:
        raise SystemExit(f"{spec.stem}: a re-masking cutoff is {min_gap:.2e} from a tie; change the seed")
    sampler = {"steps": spec.steps, "cfg_scale": float(spec.cfg_scale), "mask_temp": float(spec.mask_temp),
               "samp_temp": float(spec.samp_temp), "uncond_label": cfg.num_classes, "weights": fwd.stem}
    path = os.path.join(out_dir, spec.stem + ".safetensors")
    return path, write(path, tensors, {"sampler": json.dumps(sampler)}), float(min_gap)


# ----------------------------------------------------------------------------- VQGAN

@dataclass(frozen=True)
class VQGANSpec:
    stem: str
    config: dict
    tokens_shape: tuple[int, int, int]
    seed: int


def make_vqgan(spec: VQGANSpec, out_dir: str) -> tuple[str, int]:
    rng = np.random.default_rng(spec.seed)
    weights = {}
    for key, shape in sorted(expected_keys(spec.config).items()):
        if key == "quantize.embedding.weight":
            weights[key] = f32(rng.normal(0, 1.0, shape))
        elif key.endswith(".weight") and len(shape) == 4:
            fan_in = shape[1] * shape[2] * shape[3]
            weights[key] = f32(rng.normal(0, 1.5 / np.sqrt(fan_in), shape))
        elif key.endswith(".weight"):  # GroupNorm scale
            weights[key] = f32(1 + rng.normal(0, 0.1, shape))
        else:
            weights[key] = f32(rng.normal(0, 0.05, shape))
    tokens = rng.integers(0, spec.config["n_embed"], spec.tokens_shape).astype(I32)
    image = VQGANReference(spec.config, weights).decode(tokens)
    tensors = {f"weights.{k}": v for k, v in weights.items()}
    tensors["case.tokens"] = tokens
    tensors["expect.image"] = f32(image)
    path = os.path.join(out_dir, spec.stem + ".safetensors")
    return path, write(path, tensors, {"config": json.dumps(spec.config)})


# ----------------------------------------------------------------------------- the fixture set

LAT8 = ForwardSpec(
    stem="enat_lat8_d48_h3_e3d2",
    config=Config(latent_size=8, hidden_size=48, num_heads=3, enc_depth=3, dec_depth=2,
                  codebook_size=256, num_classes=10, mlp_ratio=4.0),
    labels=(4, 10, 9), masked=40, masked_prev=52, seed=1008)
LAT4 = ForwardSpec(
    stem="enat_lat4_d32_h8_e1d1",
    config=Config(latent_size=4, hidden_size=32, num_heads=8, enc_depth=1, dec_depth=1,
                  codebook_size=200, num_classes=5, mlp_ratio=2.0),
    labels=(5,), masked=9, masked_prev=13, seed=1004)
FORWARDS = [LAT8, LAT4]
TRAJECTORIES = [
    TrajectorySpec(LAT8, labels=(7, 0), steps=4, cfg_scale=4.0, mask_temp=2.0, samp_temp=3.0, seed=2008),
    # Guidance off; with L=16 and 12 steps, step 1 keeps 15 masked, so step 2 reveals no new token.
    TrajectorySpec(LAT4, labels=(0, 5, 3), steps=12, cfg_scale=0.0, mask_temp=1.5, samp_temp=6.0, seed=2004),
]
VQGANS = [
    VQGANSpec(
        stem="vqgan_ch32_mult122_z8",
        config={"ch": 32, "ch_mult": [1, 2, 2], "num_res_blocks": 1, "z_channels": 8, "embed_dim": 8,
                "n_embed": 256, "resolution": 16, "out_ch": 3},
        tokens_shape=(2, 4, 4), seed=3001),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    total = 0
    for spec in FORWARDS:
        path, size = make_forward(spec, args.out)
        ok, errors = validate_forward(path, 1e-6)
        assert ok, errors  # the file reads back as written (float32 rounding only)
        print(f"{os.path.basename(path)}: {size / 1e6:.2f} MB")
        total += size
    for spec in TRAJECTORIES:
        path, size, gap = make_trajectory(spec, args.out)
        ok, errors = validate_trajectory(path, 1e-6)
        assert ok, errors
        print(f"{os.path.basename(path)}: {size / 1e6:.2f} MB (smallest re-masking gap {gap:.2e})")
        total += size
    for spec in VQGANS:
        path, size = make_vqgan(spec, args.out)
        ok, info = validate_vqgan(path, 1e-6)
        assert ok, info
        print(f"{os.path.basename(path)}: {size / 1e6:.2f} MB (max |image| {info['max |image|']:.2f})")
        total += size
    print(f"total {total / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
