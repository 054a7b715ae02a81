"""Shared settings of the training scripts: thread count, output folder, repo paths."""

from __future__ import annotations

import os
import time

# OpenMP threads that spin while waiting make a busy 2-core machine crawl (10x slower steps
# measured while other jobs compile); passive waiting must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT = os.environ.get("ENAT_TRAIN_OUT", os.path.abspath(os.path.join(ROOT, "..", "train-out")))
VOCAB_NAME = "bpe_simple_vocab_16e6.txt.gz"
VOCAB = os.path.join(OUT, VOCAB_NAME)


def setup_torch(seed: int):
    """Two threads (the machine has 2 cores) and a fixed seed."""
    torch.set_num_threads(int(os.environ.get("ENAT_TRAIN_THREADS", "2")))
    torch.manual_seed(seed)


class Clock:
    def __init__(self):
        self.start = time.time()

    def minutes(self) -> float:
        return (time.time() - self.start) / 60


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, flush=True)
