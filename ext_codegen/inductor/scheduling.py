"""``ExtensionScheduling``: the device's kernel code generator, by delegation.

Inductor's scheduler groups the graph's nodes, asks the device's scheduling
which of them may fuse, and hands each group to it to emit a kernel.  This
class owns a ``TritonScheduling`` and forwards every hook of
``BaseScheduling`` to it, so fusion, templates, scans, combo kernels and
benchmarking behave exactly as for Inductor's own Triton backend.  A new
backend changes one hook at a time by overriding it here.

This package overrides one thing: on devices whose kernels run in Triton's
interpreter (cpu, extdev), kernels are generated with one configuration
each (:func:`_one_configuration`), because timing configurations there
measures nothing the launcher does not undo.
"""

from __future__ import annotations

import contextlib

from torch._inductor import config
from torch._inductor.codegen.triton import TritonScheduling
from torch._inductor.scheduler import BaseScheduling

from ..compat import torch_versions
from ..names import HOST_DEVICES


def _one_configuration(node):
    """Inductor's options for one configuration per kernel, while a kernel for ``node`` is written.

    Inductor gives most kernels several block-size configurations and, on
    their first call, times each in turn (CachingAutotuner).  In the
    interpreter every configuration runs the same numpy code: the launcher
    widens the block to the whole problem (:mod:`.triton_backend.widening`),
    so the timings only cost interpreter launches (57 of them on the first
    call of ``(x.cumsum(0), x.cumsum(1))`` for a 100×4000 ``x``).  On other
    devices (cuda) nothing changes.
    """
    device = node.get_device() if hasattr(node, "get_device") else None
    if device is None or device.type not in HOST_DEVICES:
        return contextlib.nullcontext()
    return config.patch(torch_versions.single_config_options())


class ExtensionScheduling(BaseScheduling):
    """Kernel code generation for the extension device: Triton, through delegation."""

    def __init__(self, scheduler) -> None:
        super().__init__(scheduler)
        self._triton_scheduling = TritonScheduling(scheduler)

    # -- what the backend can do ------------------------------------------
    def get_backend_features(self, device):
        """Features (scan, sort, templates, ...) Inductor may lower to this backend.

        Triton's, less ``FOREACH``: the scheduler hands foreach nodes only to
        schedulings that *are* ``SIMDScheduling`` (an ``isinstance`` check in
        ``Scheduler._codegen``), which a delegating class is not.  Without the
        feature, ``torch._foreach_*`` lowers to ordinary nodes, which fuse.
        """
        from torch._inductor.codegen.common import BackendFeature

        features = self._triton_scheduling.get_backend_features(device)
        return type(features)(f for f in features if f != BackendFeature.FOREACH)

    # -- fusion -------------------------------------------------------------
    def can_fuse_vertical(self, node1, node2):
        """May ``node2``, which reads ``node1``'s output, join ``node1``'s kernel?"""
        return self._triton_scheduling.can_fuse_vertical(node1, node2)

    def can_fuse_horizontal(self, node1, node2):
        """May two independent nodes share one kernel?"""
        return self._triton_scheduling.can_fuse_horizontal(node1, node2)

    def can_fuse_multi_outputs_template(self, node1, node2):
        """May a node fuse into a multi-output template's epilogue?"""
        return self._triton_scheduling.can_fuse_multi_outputs_template(node1, node2)

    def fuse(self, node1, node2):
        """Build the fused node once fusion was allowed."""
        return self._triton_scheduling.fuse(node1, node2)

    def get_fusion_pair_priority(self, node1, node2):
        """Order in which candidate fusions are tried."""
        return self._triton_scheduling.get_fusion_pair_priority(node1, node2)

    def group_fn(self, sizes):
        """Simplify iteration ranges into the key that groups fusable nodes."""
        return self._triton_scheduling.group_fn(sizes)

    # -- code generation ----------------------------------------------------
    def codegen_node(self, node):
        """Emit the kernel of a (fused) pointwise or reduction node."""
        with _one_configuration(node):
            return self._triton_scheduling.codegen_node(node)

    def codegen_template(self, template_node, epilogue_nodes, prologue_nodes, *args, **kwargs):
        """Emit a template kernel (matmul, conv, ...) with its fused prologue and epilogue."""
        return self._triton_scheduling.codegen_template(
            template_node, epilogue_nodes, prologue_nodes, *args, **kwargs
        )

    def codegen_mix_order_reduction(self, node):
        """Emit a kernel that reduces one buffer along two different orders."""
        with _one_configuration(node):
            return self._triton_scheduling.codegen_mix_order_reduction(node)

    def codegen_combo_kernel(self, *args, **kwargs):
        """Emit one kernel for several independent nodes (combo kernels)."""
        return self._triton_scheduling.codegen_combo_kernel(*args, **kwargs)

    def codegen_sync(self):
        """Emit a device synchronisation into the wrapper."""
        return self._triton_scheduling.codegen_sync()

    def codegen_comment(self, node_schedule, *args, **kwargs):
        """Emit a comment naming the nodes a kernel came from."""
        return self._triton_scheduling.codegen_comment(node_schedule, *args, **kwargs)

    def generate_kernel_code_from_nodes(self, nodes, *args, **kwargs):
        """Return kernel source for ``nodes`` without emitting it (used for benchmarking)."""
        return self._triton_scheduling.generate_kernel_code_from_nodes(nodes, *args, **kwargs)

    def ready_to_flush(self):
        """Has the backend buffered enough (e.g. foreach nodes) to emit?"""
        return self._triton_scheduling.ready_to_flush()

    def flush(self):
        """Emit whatever the backend has buffered."""
        return self._triton_scheduling.flush()

    def free_buffers_in_scheduler(self):
        """Let the scheduler free buffers no longer needed."""
        return self._triton_scheduling.free_buffers_in_scheduler()

    # -- benchmarking (autotuning of fusion choices) ------------------------
    def benchmark_fused_nodes(self, nodes, *args, **kwargs):
        """Time a candidate fused kernel."""
        return self._triton_scheduling.benchmark_fused_nodes(nodes, *args, **kwargs)

    def benchmark_codegened_module(self, module, *args, **kwargs):
        """Time an already generated kernel module."""
        return self._triton_scheduling.benchmark_codegened_module(module, *args, **kwargs)

    def benchmark_combo_kernel(self, node_list, *args, **kwargs):
        """Time a candidate combo kernel."""
        return self._triton_scheduling.benchmark_combo_kernel(node_list, *args, **kwargs)


# Hooks that only some torch releases have (codegen_nested_reduction in 2.13
# and 2.14, the staged-reduction hooks of 2.15, ...) are forwarded the same
# way; torch_versions.SCHEDULING_HOOKS lists them with the release that added each.
torch_versions.forward_release_specific_hooks(ExtensionScheduling)
