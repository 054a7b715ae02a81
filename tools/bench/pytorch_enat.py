#!/usr/bin/env python3
"""PyTorch anchor for `enat bench`, measured on the same machine in the same session.

Times `tools/train/enat.py` (the official ENAT forward, full and reuse, under the official key
names) with the official 8-step sampler (`enat.generate`: both guidance streams, reuse on) at
ENAT-L 256 px with random weights, the released VQGAN decoder's shape (`tools/train/vqgan.py`:
ch 128, ch_mult [1,1,2,2,4], 2 residual blocks, z 256), and the whole image (sampler + decode),
the way `enat bench` times the Swift engine, in float32 and under
`torch.autocast("cpu", dtype=torch.bfloat16)`. The spec's anchors (`../shared/spec/performance.md`)
come from the official code on a reference machine; the machines here differ by up to 2x from
day to day, so the comparison that counts is the one taken minutes apart on one machine.

    $ENAT_TRAIN_VENV/bin/python tools/bench/pytorch_enat.py --batch 1 4 --precision fp32 bf16
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from enat import ENAT, ENATConfig, generate  # noqa: E402
from vqgan import Decoder, VQGANConfig  # noqa: E402

LARGE_256 = ENATConfig(latent_size=16, hidden_size=1024, num_heads=16, enc_depth=22, dec_depth=2,
                       codebook_size=1024, num_classes=1000, mlp_ratio=4.0)
RELEASED_VQGAN = VQGANConfig(ch=128, ch_mult=[1, 1, 2, 2, 4], num_res_blocks=2, z_channels=256, embed_dim=256,
                             n_embed=1024, out_ch=3, resolution=256)


def autocast(precision: str):
    if precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=int, nargs="*", default=[1, 4], help="transformer batch sizes (none: skip)")
    p.add_argument("--decode-batch", type=int, nargs="*", default=[1, 4])
    p.add_argument("--precision", nargs="+", choices=["fp32", "bf16"], default=["fp32", "bf16"])
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--cfg", type=float, default=2.5)
    p.add_argument("--whole-images", type=int, default=1, help="whole images (sampler + decode) at batch 1")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    start = time.time()
    # The transformer only when it is timed: the decoder alone is a quick comparison.
    model = ENAT(LARGE_256).eval() if a.batch or a.whole_images else None
    decoder = Decoder(RELEASED_VQGAN).eval()
    codebook = torch.randn(RELEASED_VQGAN.n_embed, RELEASED_VQGAN.embed_dim)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}, oneDNN bf16: {torch.ops.mkldnn._is_mkldnn_bf16_supported()}; "
          f"ENAT-L 256 px with random weights, "
          f"{sum(q.numel() for q in model.parameters()) / 1e6 if model else 0:.0f} M parameters; VQGAN decoder "
          f"{sum(q.numel() for q in decoder.parameters()) / 1e6:.0f} M; built in {time.time() - start:.1f} s", flush=True)
    gen = torch.Generator().manual_seed(0)
    label = 0

    def sample(labels):
        return generate(model, {"labels": labels}, {"labels": torch.full_like(labels, 1000)}, steps=a.steps,
                        cfg_scale=a.cfg, generator=gen)

    def decode(tokens):
        z = codebook[tokens.reshape(tokens.shape[0], -1)].reshape(tokens.shape[0], 16, 16, -1).permute(0, 3, 1, 2)
        return decoder(z.contiguous())

    with torch.inference_mode():
        for precision in a.precision:
            with autocast(precision):
                if model is not None:
                    generate(model, {"labels": torch.tensor([999])}, {"labels": torch.tensor([1000])}, steps=1, generator=gen)
                decode(torch.zeros(1, 16, 16, dtype=torch.long))  # warm-up
                print(f"{precision}:", flush=True)
                for b in a.batch:
                    labels = torch.arange(label, label + b) % 1000
                    label += b
                    start = time.time()
                    sample(labels)
                    print(f"  transformer batch {b:2d}: {(time.time() - start) / b:.3f} s/image", flush=True)
                for b in a.decode_batch:
                    tokens = torch.randint(0, RELEASED_VQGAN.n_embed, (b, 16, 16), generator=gen)
                    start = time.time()
                    decode(tokens)
                    print(f"  VQGAN decode batch {b:2d}: {(time.time() - start) / b:.3f} s/image", flush=True)
                for _ in range(a.whole_images):
                    labels = torch.tensor([label % 1000])
                    label += 1
                    start = time.time()
                    decode(sample(labels).reshape(1, 16, 16))
                    print(f"  whole image batch 1: {time.time() - start:.3f} s", flush=True)


if __name__ == "__main__":
    main()
