"""``ExtensionWrapperCodegen``: the Python module that allocates buffers and calls kernels.

Inductor emits two kinds of code: kernels (written by the scheduling) and one
*wrapper* module per graph, whose ``call(args)`` allocates outputs and
launches the kernels in order.  ``register_backend_for_device`` takes the
wrapper *class*; Inductor then builds the wrapper for each graph with the
static factory ``create``, not with the constructor.  A subclass that does not
override ``create`` is never instantiated, which is the upstream fixture's
mistake.
"""

from __future__ import annotations

from torch._inductor.codegen.wrapper import PythonWrapperCodegen

HEADER_MARK = "# wrapper: ext_codegen.ExtensionWrapperCodegen"


class ExtensionWrapperCodegen(PythonWrapperCodegen):
    """The wrapper of every top-level graph compiled for the extension device."""

    @classmethod
    def create(cls, is_subgraph, subgraph_name, parent_wrapper, partition_signatures=None):
        """Build the wrapper for one graph (Inductor's factory, called per graph).

        Subgraphs (the bodies of ``cond``/``while_loop``, graph partitions)
        keep Inductor's subgraph wrapper: it writes into its parent's module,
        whose class is already ours.
        """
        if is_subgraph:
            return PythonWrapperCodegen.create(
                is_subgraph, subgraph_name, parent_wrapper, partition_signatures
            )
        return cls()

    def write_header(self) -> None:
        """Write Inductor's imports, then a line naming the wrapper that wrote them."""
        super().write_header()
        self.header.writeline(HEADER_MARK)
