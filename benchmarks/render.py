"""Turn the committed benchmark results (``benchmarks/results/*.json``) into docs tables and plots.

Sphinx calls :func:`render_all` when a build starts (see ``conf.py``), so the
numbers on the performance pages always come from the JSON files, never from
text typed into a page.  ``python benchmarks/render.py`` does the same by hand.
"""

from __future__ import annotations

import importlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")

# result name -> module (in this folder) providing render_markdown(result) and
# optionally render_plot(result, path)
RENDERERS = {"cpu_interpreter": "cpu_interpreter", "gpu_parity": "gpu_parity"}


def render_all(out_dir: str) -> list[str]:
    """Write ``<name>.md`` (and ``<name>.png`` where a plot exists) for every result; return the paths."""
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for name, module_name in RENDERERS.items():
        md_path = os.path.join(out_dir, f"{name}.md")
        json_path = os.path.join(RESULTS, f"{name}.json")
        if not os.path.exists(json_path):
            text = f"*No results committed yet: run `python benchmarks/{module_name}.py`.*\n"
        else:
            with open(json_path) as f:
                result = json.load(f)
            module = importlib.import_module(module_name)
            if not hasattr(module, "render_markdown"):
                raise RuntimeError(f"benchmarks/{module_name}.py defines no render_markdown(result)")
            text = module.render_markdown(result)
            if hasattr(module, "render_plot"):
                png = os.path.join(out_dir, f"{name}.png")
                module.render_plot(result, png)
                written.append(png)
        with open(md_path, "w") as f:
            f.write(text)
        written.append(md_path)
    return written


if __name__ == "__main__":
    for path in render_all(os.path.join(HERE, os.pardir, "docs", "_generated")):
        print(path)
