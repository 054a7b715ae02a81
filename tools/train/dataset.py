#!/usr/bin/env python3
"""Procedural dataset: 64x64 RGB images of one coloured shape on a plain light background.

Classes (12) = shape x colour, named "red circle", "green circle", ... (class = shape * 3 + colour).
Each image also has a size (small, large) and a position (top left, top right, bottom left,
bottom right, center) with a few pixels of jitter, and a caption naming its attributes, e.g.
"a large red circle in the top left". Some captions leave out the size and/or the position, so
that a short prompt ("a red circle") is in the training distribution too.

Deterministic: image i of seed s is drawn from `numpy.random.default_rng([s, i])`.
Shapes are drawn at 4x and box-filtered down (anti-aliased edges).

    python dataset.py --out /work/train-out/data/train.npz --count 40000 --seed 1
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
from PIL import Image, ImageDraw

SIZE = 64
SCALE = 4
SHAPES = ["circle", "square", "triangle", "cross"]
COLOURS = ["red", "green", "blue"]
RGB = {"red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 80, 225)}
BACKGROUND = (236, 236, 232)
SIZES = ["small", "large"]
POSITIONS = ["top left", "top right", "bottom left", "bottom right", "center"]
CLASS_NAMES = [f"{c} {s}" for s in SHAPES for c in COLOURS]
# Shape extent (side of the bounding box, px at 64) per size.
EXTENT = {"small": (18, 22), "large": (32, 38)}


def position_centre(pos: str, extent: float) -> tuple[float, float]:
    """Centre of a shape of the given extent at a named position (kept inside the image)."""
    margin = extent / 2 + 2
    lo, hi = margin, SIZE - margin
    x = {"left": lo, "right": hi}
    y = {"top": lo, "bottom": hi}
    if pos == "center":
        return SIZE / 2, SIZE / 2
    vert, horiz = pos.split()
    return x[horiz], y[vert]


def caption_for(shape: str, colour: str, size: str, pos: str, rng) -> str:
    """A caption naming the attributes; 60% all four, else some left out."""
    u = rng.random()
    where = "in the center" if pos == "center" else f"in the {pos}"
    if u < 0.6:
        return f"a {size} {colour} {shape} {where}"
    if u < 0.75:
        return f"a {size} {colour} {shape}"
    if u < 0.9:
        return f"a {colour} {shape} {where}"
    return f"a {colour} {shape}"


def draw(shape: str, colour: str, size: str, pos: str, rng) -> np.ndarray:
    extent = rng.uniform(*EXTENT[size])
    cx, cy = position_centre(pos, extent)
    cx += rng.uniform(-3, 3)
    cy += rng.uniform(-3, 3)
    rgb = tuple(int(np.clip(v + rng.integers(-12, 13), 0, 255)) for v in RGB[colour])
    img = Image.new("RGB", (SIZE * SCALE, SIZE * SCALE), BACKGROUND)
    shape_on(ImageDraw.Draw(img), shape, rgb, extent, cx, cy)
    img = img.resize((SIZE, SIZE), Image.BOX)
    return np.asarray(img, dtype=np.uint8)


def draw_scene(rng, count: int) -> np.ndarray:
    """`count` shapes of independent shape, colour, size and position on one canvas (later ones
    on top): VQGAN training images in which a token must carry its own colour, since the
    colours of a scene differ (train_vqgan.py --scenes)."""
    img = Image.new("RGB", (SIZE * SCALE, SIZE * SCALE), BACKGROUND)
    d = ImageDraw.Draw(img)
    for _ in range(count):
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        colour = COLOURS[int(rng.integers(len(COLOURS)))]
        extent = rng.uniform(*EXTENT[SIZES[int(rng.integers(len(SIZES)))]])
        cx, cy = rng.uniform(extent / 2 + 1, SIZE - extent / 2 - 1, size=2)
        rgb = tuple(int(np.clip(v + rng.integers(-12, 13), 0, 255)) for v in RGB[colour])
        shape_on(d, shape, rgb, extent, cx, cy)
    return np.asarray(img.resize((SIZE, SIZE), Image.BOX), dtype=np.uint8)


def shape_on(d, shape: str, rgb, extent: float, cx: float, cy: float):
    """Draws one shape of bounding extent `extent` (px at 64) centred at (cx, cy) on the 4x canvas."""
    r = extent / 2 * SCALE
    X, Y = cx * SCALE, cy * SCALE
    if shape == "circle":
        d.ellipse([X - r, Y - r, X + r, Y + r], fill=rgb)
    elif shape == "square":
        s = r * 0.9
        d.rectangle([X - s, Y - s, X + s, Y + s], fill=rgb)
    elif shape == "triangle":
        pts = [(X + r * math.cos(a), Y + r * 1.08 * math.sin(a) + r * 0.12) for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]
        d.polygon(pts, fill=rgb)
    elif shape == "cross":
        w = r * 0.36
        d.rectangle([X - r, Y - w, X + r, Y + w], fill=rgb)
        d.rectangle([X - w, Y - r, X + w, Y + r], fill=rgb)


def sample(seed: int, index: int):
    """(image [64,64,3] uint8, attributes (shape, colour, size, position) indices, caption)."""
    rng = np.random.default_rng([seed, index])
    a = (int(rng.integers(len(SHAPES))), int(rng.integers(len(COLOURS))), int(rng.integers(len(SIZES))),
         int(rng.integers(len(POSITIONS))))
    names = SHAPES[a[0]], COLOURS[a[1]], SIZES[a[2]], POSITIONS[a[3]]
    image = draw(*names, rng)
    return image, a, caption_for(*names, rng)


def class_of(shape: int, colour: int) -> int:
    return shape * len(COLOURS) + colour


def generate(seed: int, count: int):
    images = np.empty((count, SIZE, SIZE, 3), np.uint8)
    attrs = np.empty((count, 4), np.int64)
    captions = []
    for i in range(count):
        images[i], attrs[i], cap = sample(seed, i)
        captions.append(cap)
    return images, attrs, captions


def save(path: str, images, attrs, captions):
    np.savez(path, images=images, attrs=attrs, labels=attrs[:, 0] * len(COLOURS) + attrs[:, 1],
             captions=np.array(json.dumps(captions)))


def load(path: str):
    d = np.load(path)
    return d["images"], d["attrs"], d["labels"], json.loads(str(d["captions"]))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--count", type=int, default=40000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--grid", help="also write a PNG grid of the first 64 images")
    a = p.parse_args()
    images, attrs, captions = generate(a.seed, a.count)
    save(a.out, images, attrs, captions)
    if a.grid:
        n = min(64, a.count)
        grid = np.full((8 * 66, 8 * 66, 3), 255, np.uint8)
        for i in range(n):
            r, c = divmod(i, 8)
            grid[r * 66:r * 66 + 64, c * 66:c * 66 + 64] = images[i]
        Image.fromarray(grid).save(a.grid)
    print(f"wrote {a.out}: {a.count} images, classes {np.bincount(attrs[:, 0] * 3 + attrs[:, 1]).tolist()}")


if __name__ == "__main__":
    main()
