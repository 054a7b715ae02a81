#!/usr/bin/env python3
"""The fixed cases of the edit quality check (Tests/QualityTests/EditQualityTests.swift).

Fifty real images of the dataset generator (held-out seed 7, so never seen in training), each
with the bounding box of its shape (every pixel that differs from the background, plus one pixel)
and another class to draw there. Written as one PNG sheet (10 x 5 images of 64 x 64) and a JSON
list; the Swift test masks each box, asks the demo class model for the other class, and has the
quality classifier judge the result.

    python tools/train/make_edit_cases.py   # writes Tests/QualityTests/Fixtures/edit_cases.{png,json}
"""

from __future__ import annotations

import json
import os

import numpy as np
from PIL import Image

import dataset

COUNT, COLUMNS, SEED = 50, 10, 7
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "Tests", "QualityTests", "Fixtures")


def bounding_box(image: np.ndarray) -> list[int]:
    """[x0, y0, x1, y1) of the pixels that differ from the background, one pixel wider each way."""
    differs = np.abs(image.astype(int) - np.array(dataset.BACKGROUND)).max(axis=2) > 8
    ys, xs = np.nonzero(differs)
    size = dataset.SIZE
    return [max(0, int(xs.min()) - 1), max(0, int(ys.min()) - 1), min(size, int(xs.max()) + 2), min(size, int(ys.max()) + 2)]


def main():
    size = dataset.SIZE
    rows = (COUNT + COLUMNS - 1) // COLUMNS
    sheet = np.zeros((rows * size, COLUMNS * size, 3), np.uint8)
    cases = []
    classes = len(dataset.CLASS_NAMES)
    for index in range(COUNT):
        image, attrs, _ = dataset.sample(SEED, index)
        label = dataset.class_of(attrs[0], attrs[1])
        # Every other class in turn: another shape, another colour or both.
        requested = (label + 1 + index % (classes - 1)) % classes
        r, c = divmod(index, COLUMNS)
        sheet[r * size:(r + 1) * size, c * size:(c + 1) * size] = image
        cases.append({"index": index, "class": label, "requested": requested, "box": bounding_box(image)})
    os.makedirs(OUT, exist_ok=True)
    Image.fromarray(sheet).save(os.path.join(OUT, "edit_cases.png"), optimize=True)
    with open(os.path.join(OUT, "edit_cases.json"), "w") as f:
        json.dump({"seed": SEED, "columns": COLUMNS, "size": size, "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {COUNT} cases to {OUT}")


if __name__ == "__main__":
    main()
