"""Sphinx configuration of the ext_codegen site (sources in ``docs/``).

``sphinx-build -c . docs OUT`` reads this file directly; ``sphinx-build docs
OUT`` reads ``docs/conf.py``, which only executes this one.  Paths are
therefore computed from this file's location, never from the working
directory or Sphinx's configuration directory.
"""

import os
import sys
import warnings

ROOT = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(ROOT, "docs")
sys.path.insert(0, ROOT)
# The docs' own Sphinx extensions (render_results: the benchmark tables and plots).
sys.path.insert(0, os.path.join(DOCS, "_ext"))

import ext_codegen  # noqa: E402
import torch  # noqa: E402

project = "ext_codegen"
author = "the ext_codegen developers"
copyright = "2026, the ext_codegen developers"
release = version = ext_codegen.__version__
# The torch release whose sources the pages were checked against; links to
# Inductor's (private, uninventoried) classes point at this tag.
TORCH_TAG = "v2.13.0"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.extlinks",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "sphinx_autodoc_typehints",
    "sphinx_copybutton",
    "render_results",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "_generated/*.md", "results/*.md", "results/**/*.md", "_inv", "_ext"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# -- references ----------------------------------------------------------------
nitpicky = True
# Inductor's and Triton's internals (torch._inductor.*, torch._dynamo.*, the
# triton.backends.* base classes) are in no published inventory, online or
# not.  The pages link them to their source with the roles below; autodoc's
# base-class and signature references to them are accepted unresolved.
nitpick_ignore_regex = [
    (r"py:.*", r"torch\._.*"),
    (r"py:.*", r"triton\.backends\..*"),
    (r"py:.*", r"triton\.runtime\..*"),
    # tl.tensor and its kin: the Triton inventory lists functions and modules only
    (r"py:class", r"triton\.language\.core\..*"),
    # not in the offline inventories (docs/_inv)
    (r"py:class", r"torch\.(Event|Stream)"),
    (r"py:class", r"pathlib\.Path"),
    (r"py:class", r"pdb\.Pdb"),
    (r"py:class", r"numpy\.ndarray"),
    # type hints: with intersphinx_disabled_reftypes = ["*"] only explicit
    # ``torch:`` roles resolve, and autodoc's hints carry none
    (r"py:class", r"torch\.(dtype|Tensor)"),
]
# Offline builds: each inventory is read from the repository (docs/_inv);
# make_inventories.py there says where each comes from.
intersphinx_mapping = {
    "python": ("https://docs.python.org/3.11/", "_inv/python.inv"),
    "torch": ("https://docs.pytorch.org/docs/2.13/", "_inv/torch.inv"),
    "triton": ("https://triton-lang.org/main/", "_inv/triton.inv"),
}
intersphinx_disabled_reftypes = ["*"]
extlinks = {
    "torch-src": (f"https://github.com/pytorch/pytorch/blob/{TORCH_TAG}/%s", "%s"),
    "triton-src": ("https://github.com/triton-lang/triton/blob/v3.8.0/%s", "%s"),
    "pr": ("https://github.com/pytorch/pytorch/pull/%s", "pytorch#%s"),
    "issue": ("https://github.com/pytorch/pytorch/issues/%s", "pytorch#%s"),
}

# -- autodoc -------------------------------------------------------------------
autodoc_member_order = "bysource"
# Base classes are Inductor's and Triton's: their docstrings describe their code, not ours.
autodoc_inherit_docstrings = False
autodoc_default_options = {"members": True, "show-inheritance": True}
typehints_fully_qualified = False
# sphinx-autodoc-typehints 3.6 calls an API Sphinx 9 deprecates (a Python
# warning, not a build warning); nothing for this project to act on.
warnings.filterwarnings("ignore", message=".*set_application.*", category=DeprecationWarning)
always_document_param_types = False

# -- doctest -------------------------------------------------------------------
# The same flags are set for pytest in pyproject.toml.  Pages do their own
# setup in their first example so that both runners execute them alike; the
# global setup only provides what ``:skipif:`` conditions need.
import doctest  # noqa: E402

doctest_default_flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | doctest.DONT_ACCEPT_TRUE_FOR_1
doctest_global_setup = "import importlib.util\nimport torch"
doctest_test_doctest_blocks = ""

# -- HTML ----------------------------------------------------------------------
html_theme = "furo"
html_title = f"ext_codegen {release}"
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True
