#!/usr/bin/env python3
"""PyTorch anchor for `enat bench`, measured on the same machine in the same session.

Times `tools/train/enat.py` (the official ENAT forward, full and reuse, under the official key
names) with the official 8-step sampler (`enat.generate`: both guidance streams, reuse on) at
ENAT-L 256 px with random weights, float32, the way `enat bench` times the Swift engine. The
spec's anchors (`../shared/spec/performance.md`) come from the official code on a reference
machine; the machines here differ by up to 2x from day to day, so the comparison that counts is
the one taken minutes apart on one machine.

    $ENAT_TRAIN_VENV/bin/python tools/bench/pytorch_enat.py --batch 1 4
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from enat import ENAT, ENATConfig, generate  # noqa: E402

LARGE_256 = ENATConfig(latent_size=16, hidden_size=1024, num_heads=16, enc_depth=22, dec_depth=2,
                       codebook_size=1024, num_classes=1000, mlp_ratio=4.0)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=int, nargs="+", default=[1, 4])
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--cfg", type=float, default=2.5)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    start = time.time()
    model = ENAT(LARGE_256).eval()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; ENAT-L 256 px with random weights, "
          f"{sum(q.numel() for q in model.parameters()) / 1e6:.0f} M parameters, built in {time.time() - start:.1f} s")
    gen = torch.Generator().manual_seed(0)
    label = 0
    with torch.inference_mode():
        generate(model, {"labels": torch.tensor([999])}, {"labels": torch.tensor([1000])}, steps=1, generator=gen)
        for b in a.batch:
            labels = torch.arange(label, label + b) % 1000
            label += b
            start = time.time()
            generate(model, {"labels": labels}, {"labels": torch.full_like(labels, 1000)}, steps=a.steps,
                     cfg_scale=a.cfg, generator=gen)
            print(f"  batch {b:2d}: {(time.time() - start) / b:.3f} s/image", flush=True)


if __name__ == "__main__":
    main()
