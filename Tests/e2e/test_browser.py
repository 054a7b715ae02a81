"""Headless Chromium drives the page at `/` as a person would: its defaults must make a picture
(on the caption model too), "New seed" a different one, several images at once, a gallery and a
download link; on a key-protected server it asks for the key; the inpainting mode regenerates a
mask painted with the mouse. Screenshots are compared, not only taken."""
import base64
import os
import shutil
import tempfile
import time

import pytest

from cdp import Browser
from pictures import decode_png, dominant_colour, mean_difference, png_rgba, red_circle_bottom_left


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return name
    pytest.skip("no Chromium (tools/e2e installs it)")


def colourful_pixels(path, region=None):
    """Pixels that are neither the page's white/grey nor its black text."""
    width, height, channels, rows = decode_png(path)
    x0, y0, x1, y1 = region or (0, 0, width, height)
    count = 0
    for row in rows[y0:y1]:
        for x in range(x0 * channels, x1 * channels, channels):
            r, g, b = row[x], row[x + 1], row[x + 2]
            if max(r, g, b) - min(r, g, b) > 24:
                count += 1
    return count


def region_pixels(path, region):
    _, _, channels, rows = decode_png(path)
    x0, y0, x1, y1 = region
    return b"".join(row[x0 * channels:x1 * channels] for row in rows[y0:y1])


@pytest.fixture
def browser():
    # Chromium's helper processes may still write to the profile for a moment after it is killed.
    with tempfile.TemporaryDirectory(prefix="enat-chromium-", ignore_cleanup_errors=True) as profile:
        instance = Browser(chromium(), profile)
        instance.call("Page.enable")
        yield instance
        instance.close()


def wait_for(browser, expression, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = browser.evaluate(expression)
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {expression}: status {browser.evaluate('document.getElementById(`status`).textContent')}")


def wait_for_run(browser, timeout=120):
    """Waits for the current run to end; returns its state and the step counts the status showed."""
    steps_seen = set()
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = browser.evaluate("document.body.dataset.state || ''")
        status = browser.evaluate("document.getElementById('status').textContent")
        if status and "step " in status:
            steps_seen.add(status.split("step ")[1].split("/")[0])
        if state in ("succeeded", "failed"):
            return state, steps_seen, status
        time.sleep(0.05)
    pytest.fail("the page did not finish")


def image_region(browser, index=0):
    """The on-screen box of the index-th result image, in screenshot pixels."""
    box = browser.evaluate(
        f"(() => {{ const r = document.querySelectorAll('.slot img')[{index}].getBoundingClientRect();"
        " return [r.left, r.top, r.right, r.bottom].map(Math.round); })()")
    return tuple(box)


def test_the_page_defaults_make_a_picture_and_new_seed_another(demo_server, browser, workdir):
    browser.call("Page.navigate", url=f"{demo_server.base}/?model=demo-captions")
    wait_for(browser, "document.getElementById('status').textContent === 'ready'")
    before = os.path.join(workdir, "before.png")
    browser.screenshot(before)
    # Nothing to show yet, and no broken-image icon: no visible <img> at all.
    assert browser.evaluate("[...document.images].filter((i) => i.offsetParent !== null).length") == 0
    assert browser.evaluate("document.getElementById('caption').value") == "a large red circle in the center"
    assert "circle" in browser.evaluate("document.getElementById('about').textContent")
    assert browser.evaluate("document.getElementById('guidance').placeholder") == "2.5"

    browser.evaluate("document.getElementById('go').click()")
    state, steps_seen, status = wait_for_run(browser)
    assert state == "succeeded", status
    assert len(steps_seen) >= 2, steps_seen  # the page showed progress, not just the end
    first = os.path.join(workdir, "first.png")
    browser.screenshot(first)
    region = image_region(browser)
    assert region[2] - region[0] == 256
    assert dominant_colour(first, region) == "red", "the default caption draws a red circle"
    assert colourful_pixels(before, region) == 0 and colourful_pixels(first, region) > 2000
    assert browser.evaluate("document.querySelector('.slot progress').value") == 8
    link = browser.evaluate("[document.querySelector('.slot a').href.slice(0, 22), document.querySelector('.slot a').download]")
    assert link == ["data:image/png;base64,", "enat-demo-captions-1.png"]

    # "New seed" draws another seed and another picture (same caption).
    browser.evaluate("document.getElementById('newSeed').click()")
    wait_for(browser, "document.querySelectorAll('#gallery img').length === 2")
    state, _, status = wait_for_run(browser)
    assert state == "succeeded", status
    seed = int(browser.evaluate("document.getElementById('seed').value"))
    assert seed != 1 and seed < 2**53
    second = os.path.join(workdir, "second.png")
    browser.screenshot(second)
    assert region_pixels(second, region) != region_pixels(first, region), "a new seed makes a new image"
    assert f"seed {seed}" in status


def test_the_page_makes_several_images_at_once(demo_server, browser, workdir):
    browser.call("Page.navigate", url=f"{demo_server.base}/")
    wait_for(browser, "document.getElementById('status').textContent === 'ready'")
    assert browser.evaluate("document.getElementById('model').value") == "demo-shapes"
    browser.evaluate("document.getElementById('count').value = '3'; document.getElementById('go').click()")
    state, _, status = wait_for_run(browser)
    assert state == "succeeded", status
    assert "seed 1, 2, 3" in status
    shot = os.path.join(workdir, "three.png")
    browser.screenshot(shot)
    for index in range(3):
        assert dominant_colour(shot, image_region(browser, index)) == "red", index  # class 0: red circle
    assert browser.evaluate("document.querySelectorAll('#gallery img').length") == 3


def test_the_page_asks_for_the_key(start_server, browser, workdir):
    server = start_server("--api-key", "page-key", default_models=True)
    browser.call("Page.navigate", url=f"{server.base}/")
    wait_for(browser, "!document.getElementById('keyField').classList.contains('hidden')")
    browser.evaluate("document.getElementById('apiKey').value = 'page-key'; document.getElementById('go').click()")
    state, _, status = wait_for_run(browser)
    assert state == "succeeded", status
    shot = os.path.join(workdir, "keyed.png")
    browser.screenshot(shot)
    assert dominant_colour(shot, image_region(browser)) == "red"


def test_the_page_on_the_random_model(server, browser, workdir):
    browser.call("Page.navigate", url=f"{server.base}/?autostart")
    state, steps_seen, status = wait_for_run(browser)
    assert state == "succeeded", status
    shot = os.path.join(workdir, "page.png")
    browser.screenshot(shot)
    assert browser.evaluate("document.querySelector('.slot img').naturalWidth") == 256
    # The random model's image adds thousands of coloured pixels to a white, grey and black page.
    assert colourful_pixels(shot, image_region(browser)) > 5000, f"the image is not visible in {shot}"
    metrics = server.metrics()
    assert metrics.get('enat_http_requests_total{route="/v1/jobs",code="200"}', 0) >= 1


def set_file(browser, selector, path):
    """Chooses `path` in a file input, as a person would in the file dialog (it fires `change`)."""
    root = browser.call("DOM.getDocument")["root"]["nodeId"]
    node = browser.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
    browser.call("DOM.setFileInputFiles", nodeId=node, files=[path])


def painted_pixels(browser):
    return browser.evaluate(
        "(() => { const c = document.getElementById('maskCanvas');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })()")


def test_the_page_inpaints_a_painted_mask(demo_server, browser, workdir):
    # Any script error on the page is recorded, from the first line on.
    browser.call(
        "Page.addScriptToEvaluateOnNewDocument",
        source="window.pageErrors = []; addEventListener('error', (e) => pageErrors.push(String(e.message)));"
               " addEventListener('unhandledrejection', (e) => pageErrors.push(String(e.reason)));")
    source = red_circle_bottom_left()
    source_path = os.path.join(workdir, "source.png")
    with open(source_path, "wb") as file:
        file.write(source)
    mask_path = os.path.join(workdir, "mask.png")
    with open(mask_path, "wb") as file:
        file.write(png_rgba(64, 64, lambda x, y: (0, 0, 0, 0) if x < 32 and y >= 32 else (0, 0, 0, 255)))

    browser.call("Page.navigate", url=f"{demo_server.base}/?mode=inpaint")
    wait_for(browser, "document.getElementById('status').textContent === 'ready'")
    assert browser.evaluate("!document.getElementById('editPanel').classList.contains('hidden')")
    assert browser.evaluate("document.getElementById('sourceCanvas').width") == 64, "the editor works at the model's resolution"

    # A mask PNG's transparent quadrant becomes the painted area; "Clear mask" empties it.
    set_file(browser, "#editImage", source_path)
    wait_for(browser, "document.getElementById('sourceCanvas').getContext('2d').getImageData(10, 50, 1, 1).data[3] === 255")
    set_file(browser, "#maskFile", mask_path)
    wait_for(browser, "(" + "document.getElementById('maskCanvas').getContext('2d').getImageData(10, 50, 1, 1).data[3]" + ") > 0")
    assert painted_pixels(browser) == 32 * 32
    browser.evaluate("document.getElementById('clearMask').click()")
    assert painted_pixels(browser) == 0

    # Paint over the circle (bottom-left) with the mouse, then regenerate it as a blue square.
    box = browser.evaluate(
        "(() => { const r = document.getElementById('maskCanvas').getBoundingClientRect(); return [r.left, r.top]; })()")
    stroke = [(30, 160), (100, 160), (100, 225), (30, 225), (60, 190)]
    browser.call("Input.dispatchMouseEvent", type="mousePressed", x=box[0] + stroke[0][0], y=box[1] + stroke[0][1], button="left", buttons=1, clickCount=1)
    for x, y in stroke[1:]:
        browser.call("Input.dispatchMouseEvent", type="mouseMoved", x=box[0] + x, y=box[1] + y, button="left", buttons=1)
    browser.call("Input.dispatchMouseEvent", type="mouseReleased", x=box[0] + stroke[-1][0], y=box[1] + stroke[-1][1], button="left", buttons=0, clickCount=1)
    painted = painted_pixels(browser)
    assert 200 < painted < 32 * 32, painted
    browser.evaluate("document.getElementById('class').value = '5'; document.getElementById('seed').value = '5';"
                     " document.getElementById('go').click()")
    state, steps_seen, status = wait_for_run(browser)
    assert state == "succeeded", status
    assert len(steps_seen) >= 2, steps_seen  # the masked area filled in step by step
    href = browser.evaluate("document.querySelector('.slot a').href")
    assert href.startswith("data:image/png;base64,")
    edited = base64.b64decode(href.split(",", 1)[1])
    for region in [(0, 0, 32, 32), (32, 0, 64, 32), (32, 32, 64, 64)]:
        assert mean_difference(edited, source, region) < 5, region  # outside the painted mask: the source
    assert mean_difference(edited, source, (0, 32, 32, 64)) > 5, "the painted circle was regenerated"
    assert browser.evaluate("document.querySelector('.slot img').naturalWidth") == 64

    # "Use last image" takes the result as the next source.
    assert browser.evaluate("document.getElementById('useLast').disabled") is False
    browser.evaluate("document.getElementById('useLast').click()")
    wait_for(browser, "document.getElementById('maskCanvas').getContext('2d').getImageData(0, 0, 64, 64).data.every((v) => v === 0)")
    shot = os.path.join(workdir, "inpaint.png")
    browser.screenshot(shot)
    if os.environ.get("ENAT_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["ENAT_KEEP_SCREENSHOT"])
    assert browser.evaluate("pageErrors") == []
