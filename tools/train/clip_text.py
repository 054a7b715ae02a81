"""CLIP text transformer in PyTorch with Hugging Face `CLIPTextModel` key names and semantics
(`text_model.*`): token + position embeddings, pre-LN encoder layers with a causal attention
mask and quick-GELU MLPs, final layer norm, pooled output = state at the first end-of-text token
(HF's rule when `eos_token_id` is 49407: the first position whose id equals it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class CLIPTextConfig:
    vocab_size: int = 49408
    hidden_size: int = 64
    intermediate_size: int = 256
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    max_position_embeddings: int = 77
    layer_norm_eps: float = 1e-5
    hidden_act: str = "quick_gelu"
    eos_token_id: int = 49407
    bos_token_id: int = 49406
    pad_token_id: int = 49407

    def to_dict(self) -> dict:
        return asdict(self)


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


class CLIPAttention(nn.Module):
    def __init__(self, c: CLIPTextConfig):
        super().__init__()
        d = c.hidden_size
        self.heads = c.num_attention_heads
        self.q_proj = nn.Linear(d, d)
        self.k_proj = nn.Linear(d, d)
        self.v_proj = nn.Linear(d, d)
        self.out_proj = nn.Linear(d, d)

    def forward(self, x):
        B, n, d = x.shape
        H = self.heads

        def heads(t):
            return t.view(B, n, H, d // H).transpose(1, 2)

        out = F.scaled_dot_product_attention(heads(self.q_proj(x)), heads(self.k_proj(x)), heads(self.v_proj(x)),
                                             is_causal=True)
        return self.out_proj(out.transpose(1, 2).reshape(B, n, d))


class CLIPMLP(nn.Module):
    def __init__(self, c: CLIPTextConfig):
        super().__init__()
        self.fc1 = nn.Linear(c.hidden_size, c.intermediate_size)
        self.fc2 = nn.Linear(c.intermediate_size, c.hidden_size)

    def forward(self, x):
        return self.fc2(quick_gelu(self.fc1(x)))


class CLIPEncoderLayer(nn.Module):
    def __init__(self, c: CLIPTextConfig):
        super().__init__()
        self.self_attn = CLIPAttention(c)
        self.layer_norm1 = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.mlp = CLIPMLP(c)
        self.layer_norm2 = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, x):
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


class CLIPEncoder(nn.Module):
    def __init__(self, c: CLIPTextConfig):
        super().__init__()
        self.layers = nn.ModuleList(CLIPEncoderLayer(c) for _ in range(c.num_hidden_layers))


class CLIPTextEmbeddings(nn.Module):
    def __init__(self, c: CLIPTextConfig):
        super().__init__()
        self.token_embedding = nn.Embedding(c.vocab_size, c.hidden_size)
        self.position_embedding = nn.Embedding(c.max_position_embeddings, c.hidden_size)


class CLIPTextTransformer(nn.Module):
    def __init__(self, c: CLIPTextConfig):
        super().__init__()
        self.config = c
        self.embeddings = CLIPTextEmbeddings(c)
        self.encoder = CLIPEncoder(c)
        self.final_layer_norm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, input_ids):
        n = input_ids.shape[1]
        x = self.embeddings.token_embedding(input_ids) + self.embeddings.position_embedding.weight[:n][None]
        for layer in self.encoder.layers:
            x = layer(x)
        last = self.final_layer_norm(x)
        first_eos = (input_ids == self.config.eos_token_id).int().argmax(dim=-1)
        pooled = last[torch.arange(last.shape[0]), first_eos]
        return last, pooled


class CLIPTextModel(nn.Module):
    """State dict keys `text_model.embeddings.token_embedding.weight`, ... as HF CLIPTextModel."""

    def __init__(self, c: CLIPTextConfig):
        super().__init__()
        self.config = c
        self.text_model = CLIPTextTransformer(c)
        nn.init.normal_(self.text_model.embeddings.token_embedding.weight, std=0.02)
        nn.init.normal_(self.text_model.embeddings.position_embedding.weight, std=0.01)

    def forward(self, input_ids):
        """input_ids [B, 77] -> (last_hidden_state [B, 77, Dt], pooled [B, Dt])."""
        return self.text_model(input_ids)
