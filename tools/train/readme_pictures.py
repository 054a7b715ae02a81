#!/usr/bin/env python3
"""The README's pictures of the demo models, made by the Swift engine (`enat generate`, the same
PNG bytes as the server's answer for the same request and seed), enlarged and laid out with PIL:

- Models/demo-shapes/curl-examples.png: the README's two curl requests (seed 1), side by side.
- Models/demo-shapes/enat-generate-samples.png: seeds 1-8 of "blue square" and "red cross".
- Models/demo-captions/prompt-examples.png: `enat generate --prompt` on eight captions, with them.
- Models/demo-shapes/edit-examples.png: inpainting with `enat generate --image --mask` (before, the
  mask over it, after): the shape's bounding box repainted as another class.

    python readme_pictures.py            # needs .build/release/enat (tools/build release)
    python readme_pictures.py edits      # only edit-examples.png
"""

from __future__ import annotations

import os
import subprocess
import tempfile

from PIL import Image, ImageDraw

from common import ROOT
from dataset import BACKGROUND

ENAT = os.path.join(ROOT, ".build", "release", "enat")
SHAPES = os.path.join(ROOT, "Models", "demo-shapes")
CAPTIONS = os.path.join(ROOT, "Models", "demo-captions")
PROMPTS = [
    "a large red circle in the top left", "a small blue square in the bottom right",
    "a large green triangle in the center", "a small red cross in the top right",
    "a large blue cross in the bottom left", "a small green circle in the center",
    "a large red square in the top right", "a small blue triangle in the bottom left",
]


EDITS = [("red circle", 2, "red triangle"), ("green square", 5, "green cross"), ("blue cross", 3, "blue circle")]


def generate(model: str, seed: int, *, klass: str | None = None, prompt: str | None = None,
             edit: tuple[Image.Image, Image.Image] | None = None) -> Image.Image:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.png")
        args = [ENAT, "generate", "--model", model, "--seed", str(seed), "-o", out]
        args += ["--class", klass] if klass else ["--prompt", prompt]
        if edit:
            edit[0].save(os.path.join(tmp, "image.png"))
            edit[1].save(os.path.join(tmp, "mask.png"))
            args += ["--image", os.path.join(tmp, "image.png"), "--mask", os.path.join(tmp, "mask.png")]
        subprocess.run(args, check=True, capture_output=True)
        return Image.open(out).convert("RGB").copy()


def shape_mask(image: Image.Image) -> Image.Image:
    """RGBA mask, transparent over the bounding box of the pixels clearly unlike the background
    (a generated image's background has faint specks, hence the wide margin)."""
    pixels = image.load()
    inside = [(x, y) for y in range(image.height) for x in range(image.width)
              if max(abs(a - b) for a, b in zip(pixels[x, y], BACKGROUND)) > 60]
    x0, y0 = min(x for x, _ in inside), min(y for _, y in inside)
    x1, y1 = max(x for x, _ in inside) + 1, max(y for _, y in inside) + 1
    mask = Image.new("RGBA", image.size, (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (x0, y0, x1, y1))
    return mask


def shown_mask(image: Image.Image, mask: Image.Image) -> Image.Image:
    """The image with the mask's transparent area drawn as a grey checkerboard."""
    shown = image.copy()
    alpha = mask.getchannel("A").load()
    pixels = shown.load()
    for y in range(image.height):
        for x in range(image.width):
            if alpha[x, y] == 0:
                pixels[x, y] = (200, 200, 200) if (x // 4 + y // 4) % 2 else (150, 150, 150)
    return shown


def row(images, scale: int, gap: int) -> Image.Image:
    w, h = images[0].width * scale, images[0].height * scale
    canvas = Image.new("RGB", (len(images) * (w + gap) - gap, h), "white")
    for i, im in enumerate(images):
        canvas.paste(im.resize((w, h), Image.NEAREST), (i * (w + gap), 0))
    return canvas


def stack(rows, gap: int) -> Image.Image:
    canvas = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows) + gap * (len(rows) - 1)), "white")
    y = 0
    for r in rows:
        canvas.paste(r, (0, y))
        y += r.height + gap
    return canvas


def captioned(image: Image.Image, text: str, width: int) -> Image.Image:
    """The image with its caption wrapped in two lines under it."""
    words, lines, line = text.split(), [], ""
    for word in words:
        if len(line) + len(word) + 1 > 22 and line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    canvas = Image.new("RGB", (width, image.height + 14 * len(lines) + 6), "white")
    canvas.paste(image, ((width - image.width) // 2, 0))
    draw = ImageDraw.Draw(canvas)
    for i, text_line in enumerate(lines):
        draw.text((4, image.height + 3 + 14 * i), text_line, fill=(40, 40, 40))
    return canvas


def main():
    import sys
    if sys.argv[1:] == ["edits"]:
        return edit_examples()
    curl = [generate(SHAPES, 1, klass="blue square"), generate(CAPTIONS, 1, prompt="a large red circle in the top left")]
    row(curl, 3, 12).save(os.path.join(SHAPES, "curl-examples.png"))
    seeds = [row([generate(SHAPES, s, klass=k) for s in range(1, 9)], 2, 6) for k in ("blue square", "red cross")]
    stack(seeds, 6).save(os.path.join(SHAPES, "enat-generate-samples.png"))
    cells = [captioned(generate(CAPTIONS, 1, prompt=p).resize((128, 128), Image.NEAREST), p, 150) for p in PROMPTS]
    stack([row(cells[:4], 1, 6), row(cells[4:], 1, 6)], 6).save(os.path.join(CAPTIONS, "prompt-examples.png"))
    edit_examples()
    print("wrote curl-examples.png, enat-generate-samples.png, prompt-examples.png, edit-examples.png")


def edit_examples():
    edits = []
    for source_class, seed, target in EDITS:
        before = generate(SHAPES, seed, klass=source_class)
        mask = shape_mask(before)
        edits.append(row([before, shown_mask(before, mask), generate(SHAPES, 1, klass=target, edit=(before, mask))], 2, 6))
    stack(edits, 6).save(os.path.join(SHAPES, "edit-examples.png"))


if __name__ == "__main__":
    main()
