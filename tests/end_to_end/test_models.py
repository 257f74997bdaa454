"""Ordinary model code through the extension backend on cpu: each case ran Triton and matched eager."""

import pytest
import torch
import torch.nn.functional as F

from tests.helpers import SEED, compile_and_check


def test_softmax(ext_cpu, gen):
    x = torch.randn(32, 200, generator=gen)
    _, code = compile_and_check(lambda x: torch.softmax(x, -1), x)
    assert "libdevice.exp" in code


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu(ext_cpu, gen, approximate):
    x = torch.randn(5000, generator=gen) * 3
    _, code = compile_and_check(lambda x: F.gelu(x, approximate=approximate), x)
    assert ("libdevice.erf" if approximate == "none" else "libdevice.tanh") in code


def test_layer_norm(ext_cpu, gen):
    x, w, b = torch.randn(16, 96, generator=gen), torch.randn(96, generator=gen), torch.randn(96, generator=gen)
    compile_and_check(lambda x, w, b: F.layer_norm(x, (96,), w, b), x, w, b)


def test_cumsum_is_a_triton_scan(ext_cpu, gen):
    x = torch.randn(8, 300, generator=gen)
    _, code = compile_and_check(lambda x: torch.cumsum(x, 1), x, atol=1e-4)
    # Scans are lowered to Triton only when get_backend_features is forwarded.
    assert "tl.associative_scan" in code or "scan" in code.split("@triton.jit", 1)[1]


def test_bf16_pointwise_chain(ext_cpu, gen):
    x = torch.randn(4096, generator=gen)

    def fn(x):
        y = (x * 2 + 1).relu().to(torch.bfloat16)
        return (y * 3 - y.sigmoid()).to(torch.float32)

    out, _ = compile_and_check(fn, x, reference_dtype=torch.float32, atol=0.1, rtol=0.02)
    # bf16 arithmetic in the kernel rounds like eager's within one bf16 ulp per op
    assert out.abs().sum() > 0


def test_bf16_inputs(ext_cpu, gen):
    x = torch.randn(1000, generator=gen).bfloat16()
    compile_and_check(lambda x: x * torch.sigmoid(x) + 1, x, reference_dtype=torch.bfloat16, atol=2e-2, rtol=2e-2)


def test_mlp_backward(ext_cpu, gen):
    torch.manual_seed(SEED)
    model = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.GELU(), torch.nn.LayerNorm(64), torch.nn.Linear(64, 8))
    x = torch.randn(16, 32, generator=gen)

    def step(x):
        loss = model(x).square().mean()
        loss.backward()
        return loss

    from torch._inductor.utils import run_and_get_code

    torch._dynamo.reset()
    loss, codes = run_and_get_code(torch.compile(step), x)
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    ref = model.double()(x.double()).square().mean()
    ref.backward()
    assert sum("@triton.jit" in c for c in codes) >= 2, "forward and backward both generate Triton"
    torch.testing.assert_close(loss.double(), ref, atol=1e-5, rtol=1e-4)
    for g, p in zip(grads, model.parameters()):
        torch.testing.assert_close(g.double(), p.grad, atol=1e-5, rtol=1e-4)
    model.float()


def test_dynamic_shapes(ext_cpu, gen):
    fn = lambda x: (x.sin() * x.cos()).sum(-1)  # noqa: E731
    torch._dynamo.reset()
    compiled = torch.compile(fn, dynamic=True)
    for n in (7, 100, 1023):
        x = torch.randn(3, n, generator=gen, dtype=torch.float64)
        torch.testing.assert_close(compiled(x), fn(x))
    from torch._inductor.utils import run_and_get_code

    _, (code,) = run_and_get_code(compiled, torch.randn(3, 55, generator=gen))
    assert "@triton.jit" in code and "ks0" in code  # a symbolic size reached the kernel


def test_argmax_and_integer_ops(ext_cpu, gen):
    x = torch.randn(8, 300, generator=gen)
    compile_and_check(lambda x: x.argmax(-1), x)
    i = torch.randint(-1000, 1000, (777,), generator=gen)
    compile_and_check(lambda i: (i * 3) // 7 + i % 5 - (i >> 2), i)


def test_float64_libdevice(ext_cpu, gen):
    x = torch.rand(2000, generator=gen, dtype=torch.float64) * 4 + 0.1
    compile_and_check(lambda x: torch.pow(x, 1.7) + torch.log1p(x) - torch.erf(x) * torch.tanh(x), x, atol=1e-12, rtol=1e-12)


def test_signbit_and_special_values(ext_cpu):
    x = torch.tensor([-0.0, 0.0, -1.5, 2.0, float("nan"), -float("nan"), float("inf"), -float("inf")])
    compile_and_check(lambda x: (torch.signbit(x), torch.isnan(x), torch.isinf(x)), x)


def test_conv_model(ext_cpu, gen):
    torch.manual_seed(SEED)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
                                torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 4)).eval()
    x = torch.randn(2, 3, 16, 16, generator=gen)
    with torch.no_grad():
        compile_and_check(model, x, reference_dtype=torch.float32)


def test_index_gather_scatter(ext_cpu, gen):
    x = torch.randn(50, 20, generator=gen)
    idx = torch.randint(0, 50, (30,), generator=gen)
    compile_and_check(lambda x, i: x[i].relu() + x[i.flip(0)], x, idx)
    compile_and_check(lambda x, i: x.new_zeros(50, 20).index_add(0, i, x[:30]), x, idx)


def test_attention(ext_cpu, gen):
    q, k, v = (torch.randn(2, 4, 16, 8, generator=gen) for _ in range(3))

    def attention(q, k, v):
        scores = (q @ k.transpose(-1, -2)) / 8**0.5
        mask = torch.ones(16, 16, dtype=torch.bool).tril()
        return torch.softmax(scores.masked_fill(~mask, float("-inf")), -1) @ v

    compile_and_check(attention, q, k, v)


def test_max_autotune_mm_template_with_epilogue(ext_cpu, gen):
    """``codegen_template`` is forwarded: a Triton matmul template with its fused epilogue runs."""
    import torch._inductor.config as cfg

    a, b, bias = torch.randn(64, 32, generator=gen), torch.randn(32, 48, generator=gen), torch.randn(48, generator=gen)
    with cfg.patch(max_autotune=True, max_autotune_gemm_backends="TRITON", autotune_num_choices_displayed=0):
        _, code = compile_and_check(lambda a, b, c: (a @ b + c).relu(), a, b, bias, atol=1e-4)
    assert "tl.dot" in code


def test_float16_pointwise_and_reduction(ext_cpu, gen):
    x = torch.randn(64, 96, generator=gen).half()
    compile_and_check(lambda x: (x.float().exp() / x.float().exp().sum(-1, keepdim=True)).half(), x,
                      reference_dtype=torch.float32, atol=1e-3, rtol=1e-3)
    compile_and_check(lambda x: x * 2 + x.abs(), x, reference_dtype=torch.float16, atol=1e-3, rtol=1e-3)


def test_transformer_encoder_layer(ext_cpu, gen):
    torch.manual_seed(SEED)
    layer = torch.nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, batch_first=True,
                                             dropout=0.0).train()  # train(): eval takes a fused aten fast path
    x = torch.randn(2, 10, 32, generator=gen)
    with torch.no_grad():
        compile_and_check(layer, x, reference_dtype=torch.float32, atol=1e-4)


def test_embedding_rmsnorm(ext_cpu, gen):
    torch.manual_seed(SEED)
    emb = torch.nn.Embedding(100, 32)
    tokens = torch.randint(0, 100, (4, 12), generator=gen)

    def fn(tokens):
        h = emb(tokens)
        return h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + 1e-6)

    with torch.no_grad():
        compile_and_check(fn, tokens, atol=1e-5)
