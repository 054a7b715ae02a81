#!/usr/bin/env python3
"""Independent NumPy reference of the ENAT transformer and sampler step (../shared/spec/enat-model.md).

Written from the spec alone (no PyTorch, no Swift): the forward runs in float64 on float32
weights, and only the sampler's guided log-probabilities are computed in float32, as the
official code (and the engine) do, so that the re-masking of a near tie is decided the same way.

Run it to validate against the official golden files:

    python3 tools/golden/enat_reference.py [--golden ../shared/golden]

It prints the max abs error of every expected tensor of `enat_tiny.safetensors` and
`enat_tiny_trajectory.safetensors` and exits non-zero if any exceeds 1e-4 or an id differs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import dataclass

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import read  # noqa: E402

F64 = np.float64


@dataclass(frozen=True)
class Config:
    latent_size: int
    hidden_size: int
    num_heads: int
    enc_depth: int
    dec_depth: int
    codebook_size: int = 1024
    num_classes: int = 1000
    mlp_ratio: float = 4.0

    @staticmethod
    def from_json(text: str) -> "Config":
        return Config(**json.loads(text))

    @property
    def tokens(self) -> int:
        return self.latent_size * self.latent_size

    @property
    def mask_id(self) -> int:
        return self.codebook_size

    def to_json(self) -> str:
        return json.dumps({
            "latent_size": self.latent_size, "hidden_size": self.hidden_size, "num_heads": self.num_heads,
            "enc_depth": self.enc_depth, "dec_depth": self.dec_depth, "codebook_size": self.codebook_size,
            "num_classes": self.num_classes, "mlp_ratio": float(self.mlp_ratio),
        })


# ----------------------------------------------------------------------------- building blocks

def layer_norm(x, eps, weight=None, bias=None):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps)
    if weight is not None:
        y = y * weight + bias
    return y


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


_erf = np.vectorize(math.erf, otypes=[F64])


def gelu_erf(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def silu(x):
    return x / (1.0 + np.exp(-x))


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class ENATReference:
    """The transformer of one config and one float32 state dict (official key names)."""

    def __init__(self, config: Config, weights: dict[str, np.ndarray]):
        self.c = config
        self.w = {k: np.asarray(v, dtype=F64) for k, v in weights.items()}

    def linear(self, name, x):
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def mlp(self, prefix, x):
        return self.linear(prefix + ".fc2", gelu_tanh(self.linear(prefix + ".fc1", x)))

    # x: [n, D] tokens of one sample; ctx: [m, D] or None; c: [D] condition vector.
    def block(self, k, x, ctx, c):
        p = f"blocks.{k}"
        D, H = self.c.hidden_size, self.c.num_heads
        hd = D // H
        s1, sc1, s1_, sc1_, g1, s2, sc2, g2 = np.split(self.linear(p + ".adaLN_modulation.1", silu(c)), 8)
        h = layer_norm(x, 1e-6) * (1 + sc1) + s1
        kv = self.linear(p + ".attn.kv.B", h)
        if ctx is not None and ctx.shape[0] > 0:
            hc = layer_norm(ctx, 1e-6) * (1 + sc1_) + s1_
            kv = np.concatenate([self.linear(p + ".attn.kv.A", hc), kv], axis=0)
        q = self.linear(p + ".attn.q", h).reshape(-1, H, hd).transpose(1, 0, 2)        # [H, n, hd]
        keys = kv[:, :D].reshape(-1, H, hd).transpose(1, 0, 2)                           # [H, m+n, hd]
        values = kv[:, D:].reshape(-1, H, hd).transpose(1, 0, 2)
        attn = softmax(q @ keys.transpose(0, 2, 1) * hd ** -0.5)
        out = (attn @ values).transpose(1, 0, 2).reshape(-1, D)
        x = x + g1 * self.linear(p + ".attn.proj", out)
        x = x + g2 * self.mlp(p + ".mlp", layer_norm(x, 1e-6) * (1 + sc2) + s2)
        return x

    def embed(self, ids):
        w = self.w
        e = w["x_embedder.word_embeddings.weight"][ids] + w["x_embedder.position_embeddings.weight"][: len(ids)]
        return layer_norm(e, 1e-6, w["x_embedder.LayerNorm.weight"], w["x_embedder.LayerNorm.bias"])

    def prev_proj(self, z):
        w = self.w
        return z + self.mlp("prev_proj.mlp", layer_norm(z, 1e-6, w["prev_proj.norm.weight"], w["prev_proj.norm.bias"]))

    def logits(self, feat):
        w = self.w
        h = layer_norm(feat, 1e-5, w["norm.weight"], w["norm.bias"])
        h = gelu_erf(self.linear("mlm_layer.fc", h))
        h = layer_norm(h, 1e-5, w["mlm_layer.ln.weight"], w["mlm_layer.ln.bias"])
        out = h @ w["x_embedder.word_embeddings.weight"].T + w["mlm_layer.bias"].reshape(-1)
        return out[:, : self.c.codebook_size]

    def forward_one(self, ids, label, prev=None):
        """One sample: ids [L] ints, label int, prev None or (feat [L,D], masking [L] bool).
        Returns (logits [L,V], feat [L,D], masking [L]) in float64."""
        c = self.w["y_embedder.embedding_table.weight"][label]
        ids = np.asarray(ids)
        masking = ids == self.c.mask_id
        e = self.embed(ids)
        enc = range(self.c.enc_depth)
        dec = range(self.c.enc_depth, self.c.enc_depth + self.c.dec_depth)
        feat = np.zeros_like(e)
        vis_pos = np.flatnonzero(~masking)
        if prev is None:
            visible = e[vis_pos]
            if len(vis_pos):
                for k in enc:
                    visible = self.block(k, visible, None, c)
        else:
            prev_feat, prev_masking = prev
            prev_feat = np.asarray(prev_feat, dtype=F64)
            prev_masking = np.asarray(prev_masking, dtype=bool)
            assert not np.any(masking & ~prev_masking), "a token visible before is masked now"
            old_pos = np.flatnonzero(~prev_masking)
            new_pos = np.flatnonzero(~masking & prev_masking)
            old = self.prev_proj(prev_feat[old_pos])
            new = e[new_pos]
            if len(new_pos):
                for k in enc:
                    new = self.block(k, new, old, c)
            full = np.zeros_like(e)
            full[old_pos] = old
            full[new_pos] = new
            visible = full[vis_pos]
        feat[vis_pos] = visible
        mask_pos = np.flatnonzero(masking)
        if len(mask_pos):
            masked = e[mask_pos]
            for k in dec:
                masked = self.block(k, masked, visible, c)
            feat[mask_pos] = masked
        return self.logits(feat), feat, masking

    def forward(self, ids, labels, prev=None):
        """Batched: ids [B,L], labels [B], prev None or (feat [B,L,D], masking [B,L])."""
        counts = {int((np.asarray(row) == self.c.mask_id).sum()) for row in ids}
        assert len(counts) == 1, "the official forward needs equal masked counts within a batch"
        outs = [self.forward_one(ids[b], int(labels[b]), None if prev is None else (prev[0][b], prev[1][b]))
                for b in range(len(ids))]
        return tuple(np.stack([o[i] for o in outs]) for i in range(3))


# ----------------------------------------------------------------------------- sampler step math

@dataclass(frozen=True)
class Schedule:
    mask_count: int
    t_conf: float
    t_samp: float
    cfg: float


def schedule(step: int, steps: int, tokens: int, cfg_scale: float, mask_temp: float, samp_temp: float) -> Schedule:
    """Double precision throughout, as the official code (cos(pi/2) must not go negative)."""
    r = (step + 1) / steps
    mask_count = max(0, int(math.floor(tokens * math.cos(r * math.pi / 2))))
    return Schedule(mask_count, mask_temp * (1 - r), max(samp_temp * (1 - r), 1e-3), cfg_scale * step / steps)


def guided_logp32(cond, uncond, cfg: float):
    """`log_softmax(cond + cfg * (cond - uncond))` in float32 over the last axis (official arithmetic)."""
    cond = np.asarray(cond, dtype=np.float32)
    uncond = np.asarray(uncond, dtype=np.float32)
    g = np.float32(cfg)
    z = cond + g * (cond - uncond) if g != 0 else cond.copy()
    m = z.max(-1, keepdims=True)
    lse = np.log(np.exp((z - m).astype(np.float64)).sum(-1, keepdims=True)).astype(np.float32)
    return (z - m) - lse


def confidence32(logp_tok, gumbel, t_conf: float):
    """`logp[tok] + t_conf * gumbel`: the noise scaled in float64, added in float32."""
    return np.asarray(logp_tok, np.float32) + (t_conf * np.asarray(gumbel, np.float64)).astype(np.float32)


def remask(conf, mask_count: int):
    """Masked where the confidence is below the mask_count-th smallest (official mask_by_random_topk)."""
    conf = np.asarray(conf)
    if mask_count <= 0:
        return np.zeros(conf.shape, bool)
    cutoff = np.sort(conf)[min(mask_count, conf.size - 1)]
    return conf < cutoff


def step_ids_out(ids_in, sampled, gumbel, cond, uncond, sched: Schedule, mask_id: int):
    """One sample: ids_out from the step's logits and injected draws. Also returns the float gap
    between the cutoff and the nearest other confidence (how far the decision is from a tie)."""
    masking = np.asarray(ids_in) == mask_id
    logp = guided_logp32(cond, uncond, sched.cfg)
    conf = np.full(len(ids_in), np.inf, np.float32)
    pos = np.flatnonzero(masking)
    conf[pos] = confidence32(logp[pos, sampled[pos]], gumbel[pos], sched.t_conf)
    remasked = remask(conf, sched.mask_count)
    out = np.where(remasked, mask_id, sampled).astype(np.int32)
    gap = np.inf
    if 0 < sched.mask_count < len(conf):
        finite = np.sort(conf[np.isfinite(conf)].astype(np.float64))
        if len(finite) > 1:
            cutoff = np.sort(conf.astype(np.float64))[sched.mask_count]
            below = finite[finite < cutoff]
            above = finite[finite > cutoff]
            gap = min(cutoff - below.max() if len(below) else np.inf,
                      above.min() - cutoff if len(above) else np.inf)
    return out, gap


# ----------------------------------------------------------------------------- validation

def maxerr(a, b):
    a = np.asarray(a, F64)
    b = np.asarray(b, F64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.abs(a - b).max()) if a.size else 0.0


def validate_forward(path: str, tol: float) -> tuple[bool, dict]:
    t, meta = read(path)
    cfg = Config.from_json(meta["config"])
    model = ENATReference(cfg, {k[8:]: v for k, v in t.items() if k.startswith("weights.")})
    ids, ids_prev, labels = t["case.ids"], t["case.ids_prev"], t["case.labels"]
    full = model.forward(ids, labels)
    prev = model.forward(ids_prev, labels)
    # As the spec's golden README: reuse takes prev = (expect.prev.feat, masking of ids_prev).
    reuse = model.forward(ids, labels, prev=(t["expect.prev.feat"], ids_prev == cfg.mask_id))
    errors = {}
    for name, out in (("full", full), ("prev", prev), ("reuse", reuse)):
        errors[f"{name}.logits"] = maxerr(out[0], t[f"expect.{name}.logits"])
        errors[f"{name}.feat"] = maxerr(out[1], t[f"expect.{name}.feat"])
    return all(e <= tol for e in errors.values()), errors


def validate_trajectory(path: str, tol: float, weights_dir: str | None = None) -> tuple[bool, dict]:
    t, meta = read(path)
    s_meta = json.loads(meta["sampler"])
    wt, wmeta = read(os.path.join(weights_dir or os.path.dirname(path), s_meta["weights"] + ".safetensors"))
    cfg = Config.from_json(wmeta["config"])
    model = ENATReference(cfg, {k[8:]: v for k, v in wt.items() if k.startswith("weights.")})
    labels = t["case.labels"]
    B, L = len(labels), cfg.tokens
    uncond_label = s_meta.get("uncond_label", cfg.num_classes)
    steps = s_meta["steps"]
    errors: dict[str, float] = {}
    ok = True
    prev_c = prev_u = None
    expect_in = np.full((B, L), cfg.mask_id, np.int32)
    min_gap = np.inf
    for s in range(steps):
        ids_in = t[f"step{s}.ids_in"]
        ok &= bool(np.array_equal(ids_in, expect_in))
        lc, fc, mc = model.forward(ids_in, labels, prev_c)
        lu, fu, mu = model.forward(ids_in, np.full(B, uncond_label), prev_u)
        prev_c, prev_u = (fc, mc), (fu, mu)
        e_c = maxerr(lc, t[f"step{s}.cond_logits"])
        e_u = maxerr(lu, t[f"step{s}.uncond_logits"])
        errors[f"step{s}.cond_logits"] = e_c
        errors[f"step{s}.uncond_logits"] = e_u
        ok &= e_c <= tol and e_u <= tol
        sch = schedule(s, steps, L, s_meta["cfg_scale"], s_meta["mask_temp"], s_meta["samp_temp"])
        ok &= abs(float(t[f"step{s}.cfg_scale_used"][0]) - sch.cfg) <= 1e-6
        ok &= int(t[f"step{s}.num_masked_out"][0]) == sch.mask_count
        outs = []
        for b in range(B):
            out, gap = step_ids_out(ids_in[b], t[f"step{s}.sampled_ids"][b], t[f"step{s}.gumbel"][b],
                                    t[f"step{s}.cond_logits"][b], t[f"step{s}.uncond_logits"][b], sch, cfg.mask_id)
            min_gap = min(min_gap, gap)
            outs.append(out)
        outs = np.stack(outs)
        mism = int((outs != t[f"step{s}.ids_out"]).sum())
        errors[f"step{s}.ids_out mismatches"] = mism
        ok &= mism == 0
        # The draws must keep visible ids and fill masked ones with codebook ids.
        sampled = t[f"step{s}.sampled_ids"]
        ok &= bool(np.all(sampled[ids_in != cfg.mask_id] == ids_in[ids_in != cfg.mask_id]))
        ok &= bool(np.all((sampled >= 0) & (sampled < cfg.codebook_size)))
        expect_in = t[f"step{s}.ids_out"]
    ok &= bool(np.array_equal(t["final.tokens"], expect_in))
    errors["final.tokens == last ids_out"] = int(np.array_equal(t["final.tokens"], expect_in))
    errors["smallest confidence gap at a cutoff"] = float(min_gap)
    return bool(ok), errors


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--golden", default=os.path.join(here, "..", "..", "..", "shared", "golden"))
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("files", nargs="*", help="forward/trajectory files (default: the official enat_tiny pair)")
    args = parser.parse_args()
    files = args.files or [os.path.join(args.golden, "enat_tiny.safetensors"),
                           os.path.join(args.golden, "enat_tiny_trajectory.safetensors")]
    all_ok = True
    for path in files:
        _, meta = read(path)
        ok, errors = (validate_trajectory if "sampler" in meta else validate_forward)(path, args.tolerance)
        all_ok &= ok
        print(f"{os.path.basename(path)}: {'ok' if ok else 'FAIL'}")
        for name, e in errors.items():
            print(f"  {name}: {e:.3e}" if isinstance(e, float) else f"  {name}: {e}")
        worst = max((v for k, v in errors.items() if k.endswith("logits") or k.endswith("feat")), default=0.0)
        print(f"  worst float error: {worst:.3e}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
