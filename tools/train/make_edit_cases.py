#!/usr/bin/env python3
"""Writes the fixed cases of the edit quality check (Tests/QualityTests/EditQualityTests.swift):
50 real images of the dataset generator (seed 3: neither the training images, seed 1, nor the
held-out ones, seed 2), each with the pixel bounding box of its shape (the pixels unlike the
background) and a requested class other than its own.

    python make_edit_cases.py   # -> Tests/QualityTests/Fixtures/edit_cases.{png,json}

The PNG holds the images side by side (64 px each, case i at x = 64 i).
"""

from __future__ import annotations

import json
import os

import numpy as np
from PIL import Image

import dataset
from edit_eval import requested_class, shape_box

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "Tests", "QualityTests", "Fixtures")
SEED, COUNT = 3, 50


def main():
    images, attrs, _ = dataset.generate(SEED, COUNT)
    cases = []
    for i in range(COUNT):
        source = dataset.class_of(int(attrs[i, 0]), int(attrs[i, 1]))
        x0, y0, x1, y1 = shape_box(images[i])
        cases.append({"source_class": source, "requested_class": requested_class(source, i),
                      "box": {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0}})
    os.makedirs(FIXTURES, exist_ok=True)
    Image.fromarray(np.concatenate(list(images), axis=1)).save(os.path.join(FIXTURES, "edit_cases.png"), optimize=True)
    with open(os.path.join(FIXTURES, "edit_cases.json"), "w") as f:
        json.dump({"generator": f"tools/train/dataset.py seed {SEED}, images 0..<{COUNT}", "side": dataset.SIZE,
                   "class_names": dataset.CLASS_NAMES, "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
