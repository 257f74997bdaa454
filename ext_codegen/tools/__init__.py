"""Tools built on the backend: the conformance sweep and its reports (:mod:`.conformance`),
the code-reading helpers the docs use (:mod:`.codeview`), and later the debugger.

A tool may import the front's public names (``ext_codegen.register``, the
extension points, ``ext_codegen.compat``) and the Triton plugin
(``ext_codegen.triton_backend``, for what its kernels did: launch counts, say).
Nothing else in the package imports the tools but ``ext_codegen.__main__``,
which hands ``python -m ext_codegen conformance`` to :mod:`.conformance`.
"""
