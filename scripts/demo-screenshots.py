"""Take the README's demo pictures: the terminal dashboard and the console, during one demo run.

    .venv/bin/python scripts/demo-screenshots.py     # writes docs/demo-dashboard.png, docs/demo-console.png

The demo runs in this process for 60 seconds on a free port; 35 seconds in, Debian's chromium signs
in to the console with the printed reviewer key and photographs the queues page and the most urgent
case. The dashboard's last frame is recorded by Rich as SVG and photographed by the same browser.
"""

from __future__ import annotations

import io
import re
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image, ImageChops
from playwright.sync_api import sync_playwright
from rich.console import Console

from vigil.demo.runner import DemoOptions, DemoSummary, run_demo

DOCS = Path(__file__).resolve().parents[1] / "docs"
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def crop_margins(path: Path) -> None:
    """Cut the blank page around the terminal picture that the SVG's page leaves."""
    image = Image.open(path).convert("RGB")
    box = ImageChops.difference(image, Image.new("RGB", image.size, image.getpixel((0, 0)))).getbbox()
    if box is not None:
        image.crop(box).save(path)


def main() -> None:
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="vigil-demo-shots-"))
    console = Console(file=io.StringIO(), record=True, width=150, color_system="truecolor")
    options = DemoOptions(seed=7, rate=10, duration=60, port=port, database=workdir / "demo.db")
    result: list[DemoSummary] = []
    runner = threading.Thread(target=lambda: result.append(run_demo(options, console)), daemon=True)
    runner.start()
    time.sleep(35)
    printed = console.export_text(clear=False)
    reviewer = re.search(r"^reviewer\s+(vgl_\S+)", printed, re.M)
    if reviewer is None:
        sys.exit(f"the demo printed no reviewer key:\n{printed}")
    base = f"http://127.0.0.1:{port}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        page.goto(f"{base}/console/login")
        page.fill("#api_key", reviewer[1])
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/console/queues")
        page.screenshot(path=str(DOCS / "demo-console.png"))
        runner.join(timeout=120)
        svg = workdir / "dashboard.svg"
        svg.write_text(console.export_svg(title="vigil demo"))
        shot = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        shot.goto(svg.as_uri())
        shot.locator("svg").screenshot(path=str(DOCS / "demo-dashboard.png"))
        browser.close()
    crop_margins(DOCS / "demo-dashboard.png")
    if not result:
        sys.exit("the demo did not finish")
    print(result[0].outcomes, [o["state"] for o in result[0].orders])


if __name__ == "__main__":
    main()
