"""Root pytest configuration: what doctest collection must skip, and a clean slate per item.

``pytest --doctest-glob="*.md"`` runs every page of ``docs/`` as one doctest
and ``--doctest-modules`` imports each module to run its docstrings; the
Sphinx configuration files are not modules to test, and the inventory and
benchmark scripts are run by hand.
"""

import pytest

collect_ignore = ["conf.py", "docs/conf.py", "docs/_inv", "benchmarks", "tools"]
collect_ignore_glob = ["docs/_build/*", "docs/_generated/*", "docs/results/*"]


@pytest.fixture(autouse=True)
def _unregister_leftovers():
    """A page or test that fails half-way must not leave the backend registered for the next."""
    yield
    import ext_codegen

    for device in ("cpu", "cuda"):
        if ext_codegen.is_registered(device):
            ext_codegen.unregister(device)
