"""Root pytest configuration: what doctest collection must skip, and a clean slate per item.

``pytest --doctest-glob="*.md"`` runs every page of ``docs/`` as one doctest
and ``--doctest-modules`` imports each module to run its docstrings; the
Sphinx configuration files are not modules to test, and the inventory and
benchmark scripts are run by hand.
"""

import sys

import pytest

collect_ignore = ["conf.py", "docs/conf.py", "docs/_inv", "benchmarks", "scripts"]
collect_ignore_glob = ["docs/_build/*", "docs/_generated/*", "docs/results/*"]


@pytest.fixture(autouse=True)
def _unregister_leftovers():
    """A page or test that fails half-way must not leave the backend registered, or a switch set, for the next."""
    import os

    switches = {k: v for k, v in os.environ.items() if k.startswith("EXT_CODEGEN_")}
    yield
    for key in [k for k in os.environ if k.startswith("EXT_CODEGEN_")]:
        if key not in switches:
            del os.environ[key]
    os.environ.update(switches)
    import ext_codegen

    for device in ("cpu", "cuda"):
        if ext_codegen.is_registered(device):
            ext_codegen.unregister(device)


def pytest_runtest_teardown(item):
    """After a doctest, drop what Dynamo meant to remove from its namespace, which doctest has emptied.

    Dynamo puts the globals its compiled code reads (``__builtins_dict___N``
    and others) into the namespace of the function it compiles, here the
    doctest's, and deletes each again when that compiled code is freed.
    doctest empties the namespace when the test ends, but the compiled code
    lives on in Dynamo's caches until the interpreter exits; the deletion then
    finds the name gone, and Python prints ``Exception ignored in ...
    KeyError: '__builtins_dict___511'`` after pytest's summary.
    """
    dtest = getattr(item, "dtest", None)
    dynamo_utils = sys.modules.get("torch._dynamo.utils")
    cleanups = getattr(getattr(dynamo_utils, "CleanupManager", None), "instance", None)
    if dtest is None or cleanups is None:
        return
    for hooks in cleanups.values.values():
        hooks[:] = [hook for hook in hooks if getattr(hook, "scope", None) is not dtest.globs]
