"""Open built pages of the docs in headless Chromium, screenshot them and check what rendered.

``python scripts/screenshot_docs.py docs/_build/html`` (after ``tox -e docs``)
writes ``<page>.png`` beside the site (in ``<site>/_screenshots/``) for the
home page and one class page, and fails if the rendered DOM lacks what a
reader must see: the page title, the theme's navigation, highlighted code,
executed examples and, on the class page, the source shown by
``literalinclude``.  Needs Debian's ``chromium`` (``apt-get install chromium``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

# page -> strings the rendered DOM must contain
CHECKS = {
    "index.html": [
        "<title>ext_codegen",            # page title from the theme
        'class="sidebar-tree"',         # furo's navigation
        'class="highlight-',            # Pygments-highlighted code blocks
        "ext_codegen.register(",        # the first executed example
        "ExtensionScheduling",          # the extension-point table
    ],
    "scheduling.html": [
        'class="sidebar-tree"',
        '<span class="nc">ExtensionScheduling</span>',  # literalinclude of the real source, highlighted
        "codegen_template",
        'class="highlight-',
    ],
}


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("no chromium found: apt-get install chromium")


def render(site: str, page: str, out_dir: str, width: int, height: int) -> tuple[str, str]:
    url = "file://" + os.path.abspath(os.path.join(site, page))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    png = os.path.join(out_dir, page.replace(".html", ".png"))
    subprocess.run(
        [chromium(), *flags, f"--window-size={width},{height}", f"--screenshot={png}", url],
        check=True, capture_output=True, timeout=120,
    )
    dom = subprocess.run(
        [chromium(), *flags, "--dump-dom", url], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    return png, dom


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("site", help="the built HTML site, e.g. docs/_build/html")
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=1600)
    args = p.parse_args(argv)
    out_dir = os.path.join(args.site, "_screenshots")
    os.makedirs(out_dir, exist_ok=True)
    failed = 0
    for page, needles in CHECKS.items():
        png, dom = render(args.site, page, out_dir, args.width, args.height)
        missing = [n for n in needles if n not in dom]
        size = os.path.getsize(png)
        status = "ok" if not missing and size > 10_000 else "FAILED"
        failed += status != "ok"
        print(f"{page}: {status}, screenshot {png} ({size} bytes)" + (f", missing {missing}" if missing else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
