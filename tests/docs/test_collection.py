"""Collecting the tests has no side effects: it loads no device and registers nothing.

``tests/conftest.py`` stops a session whose collection changed either; this
runs the README's collection (every test module, every module of the package
for its doctests, every Markdown page) in a fresh interpreter with the
autoload off, as it is on a GPU host, where a loaded ``extdev`` would break
CUDA for the GPU tests that follow.
"""

from tests.helpers import ROOT, run_python


def test_collecting_every_test_loads_no_device_and_registers_nothing():
    done = run_python(f"""
        import os, pytest, torch
        os.chdir({ROOT!r})
        code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", "--doctest-glob=*.md"])
        import ext_codegen
        registered = [d for d in ("cpu", "cuda", "extdev") if ext_codegen.is_registered(d)]
        print("after collection:", int(code), torch._C._get_privateuse1_backend_name(), registered)
    """, TORCH_DEVICE_BACKEND_AUTOLOAD="0")
    assert done.returncode == 0, done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last == "after collection: 0 privateuseone []", done.stdout[-3000:]
