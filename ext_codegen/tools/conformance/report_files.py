"""Writing a report's files: ``NAME.json``, ``.md``, ``.html`` and, with matplotlib, ``.png``."""

from __future__ import annotations

import json
import os

from .report_html import html_page
from .report_markdown import markdown
from .report_plot import plot


def write_all(data: dict, out_dir: str, name: str = "conformance") -> list[str]:
    """Write ``name``.json/.md/.html/.png under ``out_dir``; return the paths written."""
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    path = os.path.join(out_dir, f"{name}.json")
    with open(path, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    paths.append(path)
    for ext, render in (("md", markdown), ("html", html_page)):
        path = os.path.join(out_dir, f"{name}.{ext}")
        with open(path, "w") as f:
            f.write(render(data))
        paths.append(path)
    path = os.path.join(out_dir, f"{name}.png")
    if plot(data, path):
        paths.append(path)
    return paths
