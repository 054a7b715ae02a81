"""ENAT transformer in PyTorch: the official computation (../shared/spec/enat-model.md), with the
official state_dict key names the Swift `ENATWeights` reads, plus the caption-conditioned variant
of the README ("Captions: ... caption-conditioned ENAT").

Class model: condition `c = y_embedder.embedding_table[label]` (row `num_classes` = unconditional).
Caption model (`num_classes == 0`, `text_width > 0`): a CLIP text tower gives `last_hidden_state`
[B, 77, Dt] and `pooled` [B, Dt]; `T = text_proj(last_hidden_state)` joins every block's context
FIRST (`ctx' = cat(T, ctx)`), and `c = text_pool_proj(pooled)` replaces the class embedding.

The forward follows the official batching rule: every sample of one call has the same number of
masked tokens (and, with `prev`, the same number of previously visible tokens), so the visible /
masked / new / old token sets are gathered with one index tensor per set.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ENATConfig:
    latent_size: int = 8
    hidden_size: int = 128
    num_heads: int = 4
    enc_depth: int = 4
    dec_depth: int = 2
    codebook_size: int = 512
    num_classes: int = 12
    mlp_ratio: float = 4.0

    @property
    def tokens(self) -> int:
        return self.latent_size * self.latent_size

    @property
    def mask_id(self) -> int:
        return self.codebook_size

    def to_dict(self) -> dict:
        d = asdict(self)
        d["mlp_ratio"] = float(d["mlp_ratio"])
        return d


def modulate(x, shift, scale):
    # shift/scale are per-sample vectors [B, D]; x is [B, n, D].
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


class Mlp(nn.Module):
    """fc1 -> GELU (tanh approximation) -> fc2, as the official (timm) Mlp."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class KV(nn.Module):
    """`attn.kv.A` (context tokens) and `attn.kv.B` (self tokens); each row is [k | v]."""

    def __init__(self, dim: int):
        super().__init__()
        self.A = nn.Linear(dim, 2 * dim)
        self.B = nn.Linear(dim, 2 * dim)


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = KV(dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, h, ctx_mod):
        """h: modulated self tokens [B, n, D]; ctx_mod: modulated context [B, m, D] or None."""
        B, n, D = h.shape
        H = self.heads
        kv = self.kv.B(h)
        if ctx_mod is not None and ctx_mod.shape[1] > 0:
            kv = torch.cat([self.kv.A(ctx_mod), kv], dim=1)
        q = self.q(h).view(B, n, H, D // H).transpose(1, 2)
        k = kv[..., :D].reshape(B, -1, H, D // H).transpose(1, 2)
        v = kv[..., D:].reshape(B, -1, H, D // H).transpose(1, 2)
        out = F.scaled_dot_product_attention(q, k, v)  # scale (D/H)^-0.5, no mask
        return self.proj(out.transpose(1, 2).reshape(B, n, D))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_hidden: int):
        super().__init__()
        self.attn = Attention(dim, heads)
        self.mlp = Mlp(dim, mlp_hidden)
        # Official key `adaLN_modulation.1` (index 0 is the SiLU of an nn.Sequential).
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 8 * dim))

    def forward(self, x, ctx, c):
        s1, sc1, s1_, sc1_, g1, s2, sc2, g2 = self.adaLN_modulation(c).chunk(8, dim=-1)
        D = x.shape[-1]
        h = modulate(F.layer_norm(x, (D,), eps=1e-6), s1, sc1)
        ctx_mod = None
        if ctx is not None and ctx.shape[1] > 0:
            ctx_mod = modulate(F.layer_norm(ctx, (D,), eps=1e-6), s1_, sc1_)
        x = x + g1.unsqueeze(1) * self.attn(h, ctx_mod)
        x = x + g2.unsqueeze(1) * self.mlp(modulate(F.layer_norm(x, (D,), eps=1e-6), s2, sc2))
        return x


class Embedder(nn.Module):
    """`x_embedder.*`: word table with V+1 rows (last = mask), positions, affine LN eps 1e-6."""

    def __init__(self, vocab: int, tokens: int, dim: int):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, dim)
        self.position_embeddings = nn.Embedding(tokens, dim)
        self.LayerNorm = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, ids):
        pos = torch.arange(ids.shape[1], device=ids.device)
        return self.LayerNorm(self.word_embeddings(ids) + self.position_embeddings(pos)[None])


class ClassEmbedder(nn.Module):
    def __init__(self, classes: int, dim: int):
        super().__init__()
        self.embedding_table = nn.Embedding(classes + 1, dim)


class PrevProj(nn.Module):
    """`prev_proj(z) = z + MLP(LN_affine(z, 1e-6))`."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, hidden)

    def forward(self, z):
        return z + self.mlp(self.norm(z))


class MlmLayer(nn.Module):
    def __init__(self, dim: int, vocab: int):
        super().__init__()
        self.fc = nn.Linear(dim, dim)
        self.ln = nn.LayerNorm(dim, eps=1e-5)
        self.bias = nn.Parameter(torch.zeros(1, 1, vocab))


def gather_tokens(x, index):
    """x [B, L, D], index [B, n] -> [B, n, D]."""
    return torch.gather(x, 1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


def split_positions(mask):
    """Positions where `mask` is False, then where it is True, each in position order.
    Requires equal counts per row. Returns (false_pos [B, a], true_pos [B, b])."""
    order = torch.argsort(mask.to(torch.int8), dim=1, stable=True)
    n_false = int((~mask[0]).sum())
    return order[:, :n_false], order[:, n_false:]


class ENAT(nn.Module):
    def __init__(self, config: ENATConfig, text_width: int = 0):
        super().__init__()
        self.config = config
        D = config.hidden_size
        hidden = int(D * config.mlp_ratio)
        self.text_width = text_width
        self.x_embedder = Embedder(config.codebook_size + 1, config.tokens, D)
        if text_width:
            self.text_proj = nn.Linear(text_width, D)
            self.text_pool_proj = nn.Linear(text_width, D)
        else:
            self.y_embedder = ClassEmbedder(config.num_classes, D)
        self.blocks = nn.ModuleList(Block(D, config.num_heads, hidden) for _ in range(config.enc_depth + config.dec_depth))
        self.prev_proj = PrevProj(D, hidden)
        self.norm = nn.LayerNorm(D, eps=1e-5)
        self.mlm_layer = MlmLayer(D, config.codebook_size + 1)
        self.init_weights()

    def init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Embedding):
                nn.init.trunc_normal_(m.weight, std=0.02)
        # adaLN-zero start as DiT: blocks begin as identity.
        for b in self.blocks:
            nn.init.zeros_(b.adaLN_modulation[1].weight)
            nn.init.zeros_(b.adaLN_modulation[1].bias)

    def condition(self, labels=None, text=None):
        """Returns (c [B, D], T [B, 77, D] or None). text = (last_hidden_state, pooled)."""
        if self.text_width:
            last, pooled = text
            return self.text_pool_proj(pooled), self.text_proj(last)
        return self.y_embedder.embedding_table(labels), None

    def forward(self, ids, labels=None, prev=None, text=None):
        """ids [B, L] (mask id = V); labels [B] (class) or text (caption); prev None or
        (prev_feat [B, L, D], prev_masking [B, L]). Returns (logits [B, L, V], feat, masking)."""
        cfg = self.config
        c, T = self.condition(labels, text)
        masking = ids == cfg.mask_id
        e = self.x_embedder(ids)
        enc = self.blocks[: cfg.enc_depth]
        dec = self.blocks[cfg.enc_depth:]

        def with_text(ctx):
            if T is None:
                return ctx
            return T if ctx is None else torch.cat([T, ctx], dim=1)

        vis_pos, mask_pos = split_positions(masking)
        if prev is None:
            visible = gather_tokens(e, vis_pos)
            if visible.shape[1] > 0:
                for blk in enc:
                    visible = blk(visible, with_text(None), c)
        else:
            prev_feat, prev_masking = prev
            old_pos, _ = split_positions(prev_masking)
            new_pos, _ = split_positions(masking | ~prev_masking)  # visible now, masked before
            old = self.prev_proj(gather_tokens(prev_feat, old_pos))
            new = gather_tokens(e, new_pos)
            if new.shape[1] > 0:
                ctx = with_text(old)
                for blk in enc:
                    new = blk(new, ctx, c)
            full = torch.zeros_like(e)
            full = full.scatter(1, old_pos.unsqueeze(-1).expand_as(old), old)
            full = full.scatter(1, new_pos.unsqueeze(-1).expand_as(new), new)
            visible = gather_tokens(full, vis_pos)
        masked = gather_tokens(e, mask_pos)
        if masked.shape[1] > 0:
            ctx = with_text(visible)
            for blk in dec:
                masked = blk(masked, ctx, c)
        feat = torch.zeros_like(e)
        feat = feat.scatter(1, vis_pos.unsqueeze(-1).expand_as(visible), visible)
        feat = feat.scatter(1, mask_pos.unsqueeze(-1).expand_as(masked), masked)
        return self.logits(feat), feat, masking

    def logits(self, feat):
        h = self.norm(feat)
        h = F.gelu(self.mlm_layer.fc(h))  # exact (erf) GELU
        h = self.mlm_layer.ln(h)
        out = h @ self.x_embedder.word_embeddings.weight.T + self.mlm_layer.bias
        return out[..., : self.config.codebook_size]


# ----------------------------------------------------------------------------- sampler

def schedule(step: int, steps: int, tokens: int, cfg_scale: float, mask_temp: float, samp_temp: float):
    """(mask_count, t_conf, t_samp, cfg) in double precision, as the official NATSchedule."""
    r = (step + 1) / steps
    mask_count = max(0, int(math.floor(tokens * math.cos(r * math.pi / 2))))
    return mask_count, mask_temp * (1 - r), max(samp_temp * (1 - r), 1e-3), cfg_scale * step / steps


@torch.no_grad()
def generate(model: ENAT, cond, uncond, steps=8, cfg_scale=2.5, mask_temp=1.5, samp_temp=6.0, generator=None,
             start=None):
    """Official `NATSchedule.generate` with reuse in both streams.
    cond / uncond: dicts of keyword arguments for the forward (`labels=` or `text=`) of B samples.
    start: an edit's first token map [B, L] (the mask id where generated, as many per row), whose
    other tokens stay; the schedule then counts the generated positions only (the Swift
    sampler's edits). Returns token ids [B, L]."""
    cfg = model.config
    L, V = cfg.tokens, cfg.codebook_size
    first = next(iter(cond.values()))
    B = (first[0] if isinstance(first, tuple) else first).shape[0]
    ids = torch.full((B, L), cfg.mask_id, dtype=torch.long) if start is None else start.clone()
    count = int((ids[0] == cfg.mask_id).sum())
    prev_c = prev_u = None
    guidance = 0.0
    for s in range(steps):
        mask_count, t_conf, t_samp, _ = schedule(s, steps, count, cfg_scale, mask_temp, samp_temp)
        lc, fc, mc = model(ids, prev=prev_c, **cond)
        lu, fu, mu = model(ids, prev=prev_u, **uncond)
        prev_c, prev_u = (fc, mc), (fu, mu)
        logp = torch.log_softmax(lc + guidance * (lc - lu), dim=-1)
        masking = ids == cfg.mask_id
        probs = torch.softmax(logp / t_samp, dim=-1).reshape(-1, V)
        sampled = torch.multinomial(probs, 1, generator=generator).view(B, L)
        sampled = torch.where(masking, sampled, ids)
        conf = torch.gather(logp, -1, sampled.unsqueeze(-1)).squeeze(-1)
        u = torch.rand(B, L, generator=generator).clamp_(1e-20, 1 - 1e-7)
        conf = conf + t_conf * (-torch.log(-torch.log(u)))
        conf = torch.where(masking, conf, torch.full_like(conf, float("inf")))
        # The official rule is `conf < sorted(conf)[mask_count]`; taking exactly the mask_count
        # lowest differs only on exact ties and keeps the batch's masked counts equal.
        remask = torch.zeros_like(masking)
        if mask_count > 0:
            remask.scatter_(1, torch.argsort(conf, dim=-1)[:, :mask_count], True)
        ids = torch.where(remask, torch.full_like(sampled, cfg.mask_id), sampled)
        guidance = (s + 1) / steps * cfg_scale
    return ids
