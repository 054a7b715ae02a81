#!/usr/bin/env python3
"""Independent NumPy reference of the VQGAN decoder (../shared/spec/enat-model.md, "VQGAN decoder").

float64 compute on float32 weights. Keys follow the official checkpoint: `decoder.*` and
`quantize.embedding.weight`. Note the residual-block quirk of the JAX original: when the
channel count changes the output is `nin_shortcut(h) + h`, applied to h (not x).

Validate against the official golden file:

    python3 tools/golden/vqgan_reference.py [--golden ../shared/golden] [files...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import read  # noqa: E402

F64 = np.float64
GROUPS = 32


def group_norm(x, weight, bias, groups=GROUPS, eps=1e-6):
    b, c, h, w = x.shape
    g = x.reshape(b, groups, -1)
    mean = g.mean(-1, keepdims=True)
    var = ((g - mean) ** 2).mean(-1, keepdims=True)
    y = ((g - mean) / np.sqrt(var + eps)).reshape(b, c, h, w)
    return y * weight[None, :, None, None] + bias[None, :, None, None]


def swish(x):
    return x / (1.0 + np.exp(-x))


def conv2d(x, weight, bias=None):
    """Stride 1, zero padding (k-1)/2; weight [out, in, k, k] (PyTorch layout)."""
    out_c, in_c, k, _ = weight.shape
    b, c, h, w = x.shape
    assert c == in_c, (c, in_c)
    p = (k - 1) // 2
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    cols = np.empty((b, in_c, k, k, h, w), x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, :, i, j] = xp[:, :, i:i + h, j:j + w]
    y = np.einsum("oc,bchw->bohw", weight.reshape(out_c, -1), cols.reshape(b, in_c * k * k, h, w), optimize=True)
    if bias is not None:
        y = y + bias[None, :, None, None]
    return y


class VQGANReference:
    def __init__(self, config: dict, weights: dict[str, np.ndarray]):
        self.config = config
        self.w = {k: np.asarray(v, F64) for k, v in weights.items()}

    def resblock(self, p, x):
        w = self.w
        h = conv2d(swish(group_norm(x, w[p + ".norm1.weight"], w[p + ".norm1.bias"])), w[p + ".conv1.weight"])
        h = conv2d(swish(group_norm(h, w[p + ".norm2.weight"], w[p + ".norm2.bias"])), w[p + ".conv2.weight"])
        if x.shape[1] != h.shape[1]:
            return conv2d(h, w[p + ".nin_shortcut.weight"]) + h  # the quirk: shortcut of h, not x
        return x + h

    def decode(self, tokens):
        """tokens [B, h, w] ints -> image [B, 3, h*f, w*f] before clamping (float64)."""
        w = self.w
        cfg = self.config
        z = w["quantize.embedding.weight"][np.asarray(tokens)]          # [B, h, w, C]
        x = z.transpose(0, 3, 1, 2)
        x = conv2d(x, w["decoder.conv_in.weight"], w["decoder.conv_in.bias"])
        x = self.resblock("decoder.mid.block_1", x)
        x = self.resblock("decoder.mid.block_2", x)
        for i in reversed(range(len(cfg["ch_mult"]))):
            for j in range(cfg["num_res_blocks"]):
                x = self.resblock(f"decoder.up.{i}.block.{j}", x)
            if i != 0:
                x = x.repeat(2, axis=2).repeat(2, axis=3)
                x = conv2d(x, w[f"decoder.up.{i}.upsample.conv.weight"], w[f"decoder.up.{i}.upsample.conv.bias"])
        x = swish(group_norm(x, w["decoder.norm_out.weight"], w["decoder.norm_out.bias"]))
        return conv2d(x, w["decoder.conv_out.weight"], w["decoder.conv_out.bias"])


def expected_keys(config: dict) -> dict[str, tuple[int, ...]]:
    """Every decoder key and shape the official module has for a config."""
    ch, mult, nrb, z = config["ch"], config["ch_mult"], config["num_res_blocks"], config["z_channels"]
    out_ch = config.get("out_ch", 3)
    keys: dict[str, tuple[int, ...]] = {}

    def block(p, cin, cout):
        keys[p + ".norm1.weight"] = keys[p + ".norm1.bias"] = (cin,)
        keys[p + ".conv1.weight"] = (cout, cin, 3, 3)
        keys[p + ".norm2.weight"] = keys[p + ".norm2.bias"] = (cout,)
        keys[p + ".conv2.weight"] = (cout, cout, 3, 3)
        if cin != cout:
            keys[p + ".nin_shortcut.weight"] = (cout, cout, 1, 1)

    block_in = ch * mult[-1]
    keys["decoder.conv_in.weight"] = (block_in, z, 3, 3)
    keys["decoder.conv_in.bias"] = (block_in,)
    block("decoder.mid.block_1", block_in, block_in)
    block("decoder.mid.block_2", block_in, block_in)
    for i in reversed(range(len(mult))):
        block_out = ch * mult[i]
        for j in range(nrb):
            block(f"decoder.up.{i}.block.{j}", block_in, block_out)
            block_in = block_out
        if i != 0:
            keys[f"decoder.up.{i}.upsample.conv.weight"] = (block_in, block_in, 3, 3)
            keys[f"decoder.up.{i}.upsample.conv.bias"] = (block_in,)
    keys["decoder.norm_out.weight"] = keys["decoder.norm_out.bias"] = (block_in,)
    keys["decoder.conv_out.weight"] = (out_ch, block_in, 3, 3)
    keys["decoder.conv_out.bias"] = (out_ch,)
    keys["quantize.embedding.weight"] = (config["n_embed"], config["embed_dim"])
    return keys


def validate(path: str, tol: float) -> tuple[bool, dict]:
    t, meta = read(path)
    config = json.loads(meta["config"])
    weights = {k[8:]: v for k, v in t.items() if k.startswith("weights.")}
    want = expected_keys(config)
    have = {k: tuple(v.shape) for k, v in weights.items()}
    keys_ok = want == have
    image = VQGANReference(config, weights).decode(t["case.tokens"])
    err = float(np.abs(image - t["expect.image"].astype(F64)).max())
    return keys_ok and err <= tol, {"keys match the official pattern": keys_ok, "image": err,
                                    "max |image|": float(np.abs(t["expect.image"]).max())}


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--golden", default=os.path.join(here, "..", "..", "..", "shared", "golden"))
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    files = args.files or [os.path.join(args.golden, "vqgan_tiny.safetensors")]
    all_ok = True
    for path in files:
        ok, info = validate(path, args.tolerance)
        all_ok &= ok
        print(f"{os.path.basename(path)}: {'ok' if ok else 'FAIL'}")
        for k, v in info.items():
            print(f"  {k}: {v:.3e}" if isinstance(v, float) else f"  {k}: {v}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
