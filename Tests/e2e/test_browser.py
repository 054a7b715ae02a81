"""Headless Chromium loads the page at `/`, which generates through the multipart stream; the
screenshot must show the image."""
import os
import shutil
import struct
import subprocess
import time
import zlib

import pytest

from cdp import Browser


def decode_png(path):
    """Pixels of an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes) as (width, height, rows)."""
    with open(path, "rb") as file:
        data = file.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, header = 8, b"", None
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        chunk = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        offset += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = previous[x]
            c = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return name
    pytest.skip("no Chromium (tools/e2e installs it)")


def colourful_pixels(path):
    """Pixels that are neither the page's white/grey nor its black text."""
    width, _, channels, rows = decode_png(path)
    count = 0
    for row in rows:
        for x in range(0, width * channels, channels):
            r, g, b = row[x], row[x + 1], row[x + 2]
            if max(r, g, b) - min(r, g, b) > 24:
                count += 1
    return count


def test_page_shows_the_image_appear_step_by_step(server, workdir):
    browser = Browser(chromium(), os.path.join(workdir, "profile"))
    try:
        browser.call("Page.enable")
        browser.call("Page.navigate", url=f"{server.base}/?autostart")
        # Frames arrive one step at a time through the multipart stream; the status line follows
        # the same job through its NDJSON stream.
        steps_seen = set()
        deadline = time.time() + 120
        while time.time() < deadline:
            state = browser.evaluate("document.body.dataset.state || ''")
            status = browser.evaluate("document.getElementById('status').textContent")
            if status and "step " in status:
                steps_seen.add(status.split("step ")[1].split("/")[0])
            if state:
                break
            time.sleep(0.05)
        assert state == "succeeded", status
        shot = os.path.join(workdir, "page.png")
        browser.screenshot(shot)
        natural = browser.evaluate("[document.getElementById('image').naturalWidth, document.getElementById('image').complete]")
    finally:
        browser.close()
    assert len(steps_seen) >= 2, steps_seen  # the page showed progress, not just the end
    assert natural[0] == 256
    # The page is white, grey and black; the random model's image adds thousands of coloured pixels.
    assert colourful_pixels(shot) > 5000, f"the image is not visible in {shot}"
    # The page's image came through the multipart stream.
    metrics = server.metrics()
    assert metrics.get('enat_http_requests_total{route="/v1/jobs/{id}/stream",code="200"}', 0) >= 2
