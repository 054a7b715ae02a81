"""Headless Chromium drives the page at `/` as a person would: its defaults must make a picture
(on the caption model too), "New seed" a different one, several images at once, a gallery and a
download link; on a key-protected server it asks for the key. Screenshots are compared, not only
taken."""
import os
import shutil
import tempfile
import time

import pytest

from cdp import Browser
from pictures import decode_png, dominant_colour


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
