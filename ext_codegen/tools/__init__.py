"""Tools built on the backend: the conformance sweep and its reports (:mod:`.conformance`),
the debugging tools (:mod:`.debug`) and the code-reading helpers the docs use (:mod:`.codeview`).

What it may import: the package's public names (:mod:`ext_codegen`:
``ext_codegen.register``, the extension points), :mod:`ext_codegen.compat`,
:mod:`ext_codegen.names`, :mod:`ext_codegen.inductor`,
:mod:`ext_codegen.triton_backend` (for what its kernels did, such as launch
counts, and for the launcher's hook), :mod:`ext_codegen.device` and its own modules;
never :mod:`ext_codegen.autoload` or ``ext_codegen.__main__``.  Nothing in the
package imports the tools but ``ext_codegen.__main__``, which hands ``python
-m ext_codegen conformance`` to :mod:`.conformance`; the launcher reaches the
debugging tools' environment switches through the entry point
``pyproject.toml`` declares in the ``ext_codegen.instruments`` group.
"""
