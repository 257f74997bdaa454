"""The fused LSTM and GRU cells, which ATen asks of any accelerator and implements only for CUDA.

``nn.LSTM`` and ``nn.GRU`` run ``aten::lstm``/``aten::gru``, whose one
implementation steps through time with a cell; for CUDA, XPU and PrivateUse1
tensors the cell calls ``aten::_thnn_fused_lstm_cell`` (``_thnn_fused_gru_cell``
for GRU), kernels that only CUDA has, so the CPU fallback has nothing to run
("has no CPU kernel").  This module gives those two ops and the backward ops
their autograd formulas call (``_thnn_fused_lstm_cell_backward_impl``,
``_thnn_fused_gru_cell_backward``) PrivateUse1 kernels written with ordinary
tensor ops, which then run on the device like any other op.

The *workspace* each forward returns is handed unchanged to its backward, so
only the two of them agree on its layout: the activated gates, as CUDA keeps
them.  Gate order is PyTorch's: input, forget, cell, output for LSTM; reset,
update, new for GRU.  With ``create_graph=True`` autograd uses its
differentiable formulas instead, made of ordinary ops.

Registered by ``register()``, which :func:`ext_codegen.device.load` calls.
Imports torch only.
"""

from __future__ import annotations

import torch

_library: torch.library.Library | None = None


def _gates(input_gates, hidden_gates, input_bias, hidden_bias):
    gates = input_gates + hidden_gates
    if input_bias is not None:
        gates = gates + input_bias + hidden_bias
    return gates


def lstm_cell(input_gates, hidden_gates, cx, input_bias=None, hidden_bias=None):
    """``(hy, cy, workspace)``: one LSTM step from the pre-activations of both matmuls."""
    i, f, g, o = _gates(input_gates, hidden_gates, input_bias, hidden_bias).chunk(4, 1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    cy = f * cx + i * g
    return o * cy.tanh(), cy, torch.cat([i, f, g, o], 1)


def lstm_cell_backward(grad_hy, grad_cy, cx, cy, workspace, has_bias):
    """``(grad_gates, grad_cx, grad_bias)`` of :func:`lstm_cell`; either output's gradient may be missing.

    ``grad_bias`` is computed whether or not there was a bias: without one,
    autograd has no input to give it to and drops it.
    """
    i, f, g, o = workspace.chunk(4, 1)
    tanh_cy = cy.tanh()
    grad_hy = torch.zeros_like(cy) if grad_hy is None else grad_hy
    grad_c = grad_hy * o * (1 - tanh_cy * tanh_cy)
    if grad_cy is not None:
        grad_c = grad_c + grad_cy
    grad_gates = torch.cat([grad_c * g * i * (1 - i),
                            grad_c * cx * f * (1 - f),
                            grad_c * i * (1 - g * g),
                            grad_hy * tanh_cy * o * (1 - o)], 1)
    return grad_gates, grad_c * f, grad_gates.sum(0)


def gru_cell(input_gates, hidden_gates, hx, input_bias=None, hidden_bias=None):
    """``(hy, workspace)``: one GRU step; the new gate sees the reset gate times the hidden matmul."""
    if input_bias is not None:
        input_gates, hidden_gates = input_gates + input_bias, hidden_gates + hidden_bias
    i_r, i_z, i_n = input_gates.chunk(3, 1)
    h_r, h_z, h_n = hidden_gates.chunk(3, 1)
    r, z = (i_r + h_r).sigmoid(), (i_z + h_z).sigmoid()
    n = (i_n + r * h_n).tanh()
    return n + z * (hx - n), torch.cat([r, z, n, hx, h_n], 1)


def gru_cell_backward(grad_hy, workspace, has_bias):
    """``(grad_input_gates, grad_hidden_gates, grad_hx, grad_input_bias, grad_hidden_bias)`` of :func:`gru_cell`."""
    r, z, n, hx, h_n = workspace.chunk(5, 1)
    grad_n = grad_hy * (1 - z) * (1 - n * n)
    grad_r = grad_n * h_n * r * (1 - r)
    grad_z = grad_hy * (hx - n) * z * (1 - z)
    grad_input = torch.cat([grad_r, grad_z, grad_n], 1)
    grad_hidden = torch.cat([grad_r, grad_z, grad_n * r], 1)
    return grad_input, grad_hidden, grad_hy * z, grad_input.sum(0), grad_hidden.sum(0)


def register() -> None:
    """Give the four ops their PrivateUse1 kernels in this process (once)."""
    global _library
    if _library is not None:
        return
    library = torch.library.Library("aten", "IMPL")
    for name, kernel in (("_thnn_fused_lstm_cell", lstm_cell),
                         ("_thnn_fused_lstm_cell_backward_impl", lstm_cell_backward),
                         ("_thnn_fused_gru_cell", gru_cell),
                         ("_thnn_fused_gru_cell_backward", gru_cell_backward)):
        library.impl(name, kernel, "PrivateUse1")
    _library = library
