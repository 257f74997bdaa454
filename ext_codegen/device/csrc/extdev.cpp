// extdev: a PrivateUse1 device whose memory is ordinary host memory.
//
// PyTorch cannot hand out PrivateUse1 storage from Python, so this file gives
// the device what only C++ can: an allocator, a device guard (which device is
// current, how many there are), the PrivateUse1 hooks, the ops that create or
// alias memory, and a boxed fallback that runs every other op with its CPU
// kernel.  build.py compiles it; module.py is the Python half.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/EmptyTensor.h>
#include <ATen/detail/PrivateUse1HooksInterface.h>
#include <ATen/native/CPUFallback.h>
#include <ATen/SparseCsrTensorUtils.h>
#include <ATen/native/Resize.h>
#include <ATen/native/SparseTensorUtils.h>
#include <ATen/ops/_coalesced_native.h>
#include <ATen/ops/_indices_native.h>
#include <ATen/ops/_nnz_native.h>
#include <ATen/ops/_reshape_alias_native.h>
#include <ATen/ops/_sparse_coo_tensor_with_dims_and_tensors_native.h>
#include <ATen/ops/_sparse_coo_tensor_with_dims_native.h>
#include <ATen/ops/_values_native.h>
#include <ATen/ops/col_indices_native.h>
#include <ATen/ops/crow_indices_native.h>
#include <ATen/ops/dense_dim_native.h>
#include <ATen/ops/empty_native.h>
#include <ATen/ops/indices_native.h>
#include <ATen/ops/is_coalesced_native.h>
#include <ATen/ops/sparse_dim_native.h>
#include <ATen/ops/values_native.h>
#include <ATen/ops/as_strided_native.h>
#include <ATen/ops/convolution.h>
#include <ATen/ops/convolution_backward.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/resize_native.h>
#include <ATen/ops/set_native.h>
#include <ATen/ops/unfold_native.h>
#include <ATen/ops/view_as_complex_native.h>
#include <ATen/ops/view_as_real_native.h>
#include <ATen/ops/view_native.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <c10/core/impl/alloc_cpu.h>
#include <torch/library.h>

#include <algorithm>
#include <atomic>
#include <chrono>

namespace {

constexpr c10::DeviceIndex kDeviceCount = 2;
// Thread-local, as CUDA's is: autograd runs each device's backward on a thread
// of its own and sets that thread's device.
thread_local c10::DeviceIndex current_index = 0;

void check_index(c10::DeviceIndex index) {
  TORCH_CHECK(index >= 0 && index < kDeviceCount, c10::Device(c10::kPrivateUse1, index),
              " is not a device: there are ", int(kDeviceCount), " ",
              c10::get_privateuse1_backend(), " devices");
}

// LITERALINCLUDE START: ALLOCATOR
std::atomic<int64_t> bytes_in_use[kDeviceCount];

struct Block { void* data; size_t nbytes; c10::DeviceIndex index; };  // what the deleter must give back

void free_block(void* ctx) {
  auto* block = static_cast<Block*>(ctx);
  bytes_in_use[block->index] -= block->nbytes;
  c10::free_cpu(block->data);
  delete block;
}

struct HostAllocator final : c10::Allocator {
  c10::DataPtr allocate(size_t nbytes) override {
    void* data = c10::alloc_cpu(nbytes);  // 64-byte aligned, as cpu tensors are
    bytes_in_use[current_index] += nbytes;
    return {data, new Block{data, nbytes, current_index}, &free_block,
            c10::Device(c10::kPrivateUse1, current_index)};
  }
  void copy_data(void* dst, const void* src, size_t n) const override {
    default_copy_data(dst, src, n);
  }
} host_allocator;
REGISTER_ALLOCATOR(c10::DeviceType::PrivateUse1, &host_allocator);
// LITERALINCLUDE END: ALLOCATOR

// LITERALINCLUDE START: GUARD
struct Guard final : c10::impl::DeviceGuardImplInterface {
  c10::DeviceType type() const override { return c10::kPrivateUse1; }
  c10::Device getDevice() const override { return {c10::kPrivateUse1, current_index}; }
  void setDevice(c10::Device d) const override { check_index(d.index()); current_index = d.index(); }
  void uncheckedSetDevice(c10::Device d) const noexcept override { current_index = d.index(); }
  c10::Device exchangeDevice(c10::Device d) const override { auto old = getDevice(); setDevice(d); return old; }
  c10::DeviceIndex deviceCount() const noexcept override { return kDeviceCount; }
  // Work runs synchronously on the host: one stream per device, always idle,
  // and an event is the host time it was recorded at.
  c10::Stream getStream(c10::Device d) const override { return c10::Stream(c10::Stream::DEFAULT, d); }
  c10::Stream getDefaultStream(c10::Device d) const override { return getStream(d); }
  c10::Stream getNewStream(c10::Device d, int) const override { return getStream(d); }
  c10::Stream exchangeStream(c10::Stream s) const override { return getStream(s.device()); }
  bool queryStream(const c10::Stream&) const override { return true; }
  void synchronizeStream(const c10::Stream&) const override {}
  void synchronizeDevice(c10::DeviceIndex) const override {}
  void record(void** event, const c10::Stream&, c10::DeviceIndex, c10::EventFlag) const override {
    if (!*event) *event = new double;
    *static_cast<double*>(*event) = std::chrono::duration<double, std::milli>(
        std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  void destroyEvent(void* event, c10::DeviceIndex) const noexcept override { delete static_cast<double*>(event); }
  void block(void*, const c10::Stream&) const override {}
  bool queryEvent(void*) const override { return true; }
  void synchronizeEvent(void*) const override {}
  double elapsedTime(void* start, void* end, c10::DeviceIndex) const override {
    return *static_cast<double*>(end) - *static_cast<double*>(start);
  }
};
C10_REGISTER_GUARD_IMPL(PrivateUse1, Guard);
// LITERALINCLUDE END: GUARD

// LITERALINCLUDE START: HOOKS
struct Hooks final : at::PrivateUse1HooksInterface {
  bool isBuilt() const override { return true; }
  bool isAvailable() const override { return true; }
  bool hasPrimaryContext(c10::DeviceIndex) const override { return true; }
  // Random ops run their CPU kernels through the fallback and draw from a CPU
  // generator, so the CPU's default generator *is* the device's, and a new
  // extdev generator is a new CPU one.  Likewise pinned memory is host memory.
  const at::Generator& getDefaultGenerator(c10::DeviceIndex) const override {
    return at::detail::getDefaultCPUGenerator();
  }
  at::Generator getNewGenerator(c10::DeviceIndex) const override { return at::make_generator<at::CPUGeneratorImpl>(); }
  c10::Allocator* getPinnedMemoryAllocator() const override { return c10::GetCPUAllocator(); }
  c10::Device getDeviceFromPtr(void*) const override { return {c10::kPrivateUse1, current_index}; }
  void resizePrivateUse1Bytes(const c10::Storage& s, size_t nbytes) const override {
    c10::DeviceGuard guard(s.device());
    at::native::resize_bytes_cpu(s.unsafeGetStorageImpl(), nbytes);
  }
};
[[maybe_unused]] const bool hooks_registered = (at::RegisterPrivateUse1HooksInterface(new Hooks), true);
// LITERALINCLUDE END: HOOKS

// CUDA's rule: one device for all tensors, except cpu 0-dim tensors (scalars)
// and, where an op takes Tensor?[] (indices), cpu tensors there.
struct SameDevice {
  std::string op;
  std::optional<c10::Device> first = std::nullopt;
  void operator()(const at::Tensor& t, bool cpu_ok = false) {
    if (!t.defined() || (t.is_cpu() && (cpu_ok || t.dim() == 0))) return;
    if (!first) first = t.device();
    TORCH_CHECK(*first == t.device(), "Expected all tensors to be on the same device, but found at least two devices, ",
                *first, " and ", t.device(), "! (when checking arguments for ", op, ")");
  }
};

// LITERALINCLUDE START: OPS
constexpr c10::DispatchKeySet kKeys{c10::DispatchKey::PrivateUse1};

at::Tensor empty(c10::IntArrayRef size, std::optional<at::ScalarType> dtype, std::optional<at::Layout>,
                 std::optional<at::Device> device, std::optional<bool>, std::optional<at::MemoryFormat> fmt) {
  c10::DeviceGuard guard(*device);  // the allocator tags memory with the current device
  return at::detail::empty_generic(size, &host_allocator, kKeys, c10::dtype_or_default(dtype), fmt);
}

at::Tensor empty_strided(c10::IntArrayRef size, c10::IntArrayRef stride, std::optional<at::ScalarType> dtype,
                         std::optional<at::Layout>, std::optional<at::Device> device, std::optional<bool>) {
  c10::DeviceGuard guard(*device);
  return at::detail::empty_strided_generic(size, stride, &host_allocator, kKeys, c10::dtype_or_default(dtype));
}

// The same bytes seen as a cpu tensor, so CPU kernels can read and write them.
at::Tensor host_view(const at::Tensor& t) {
  if (t.is_cpu()) return t;
  auto view = at::from_blob(t.data_ptr(), t.sizes(), t.strides(), t.options().device(at::kCPU));
  view._set_conj(t.is_conj());
  view._set_neg(t.is_neg());
  return view;
}

at::Tensor copy_from(const at::Tensor& src, const at::Tensor& dst, bool /*non_blocking*/) {
  if (dst.numel() > 0) host_view(dst).copy_(host_view(src));
  return dst;
}

at::Tensor copy_from_and_resize(const at::Tensor& src, const at::Tensor& dst) {
  dst.resize_(src.sizes());
  return copy_from(src, dst, false);
}

// resize_ and set_ may reallocate through the allocator: on the tensor's device.
const at::Tensor& resize(const at::Tensor& self, c10::IntArrayRef size, std::optional<at::MemoryFormat> fmt) {
  c10::DeviceGuard guard(self.device());
  return at::native::resize_(self, size, fmt);
}

at::Tensor& set_storage(at::Tensor& self, at::Storage source, int64_t offset, c10::IntArrayRef size,
                        c10::IntArrayRef stride) {
  c10::DeviceGuard guard(self.device());
  return at::native::set_storage_cpu_(self, source, offset, size, stride);
}

// ATen sends convolutions on devices it does not know to these two ops
// instead of to a CPU kernel, so the fallback never sees them.  Their results
// are contiguous: the format ATen promises for this backend
// (_conv_determine_backend_memory_format), which torch.compile's fake tensors
// predict, whereas the CPU kernel would keep a channels-last input's format.
at::Tensor conv(const at::Tensor& input, const at::Tensor& weight, const std::optional<at::Tensor>& bias,
                c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation, bool transposed,
                c10::IntArrayRef output_padding, int64_t groups) {
  bool has_bias = bias && bias->defined();
  SameDevice check{"aten::convolution"};
  check(input), check(weight), has_bias ? check(*bias) : void();
  auto host_bias = has_bias ? std::optional(host_view(*bias)) : std::nullopt;
  return at::convolution(host_view(input), host_view(weight), host_bias, stride, padding, dilation, transposed,
                         output_padding, groups).contiguous().to(input.device());
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> conv_backward(
    const at::Tensor& grad, const at::Tensor& input, const at::Tensor& weight, c10::IntArrayRef stride,
    c10::IntArrayRef padding, c10::IntArrayRef dilation, bool transposed, c10::IntArrayRef output_padding,
    int64_t groups, std::array<bool, 3> mask) {
  SameDevice check{"aten::convolution_backward"};
  check(grad), check(input), check(weight);
  auto grads = at::convolution_backward(host_view(grad), host_view(input), host_view(weight),
                                        at::IntArrayRef{grad.size(1)}, stride, padding, dilation, transposed,
                                        output_padding, groups, mask);
  auto back = [&](const at::Tensor& t) { return t.defined() ? t.contiguous().to(input.device()) : t; };
  return {back(std::get<0>(grads)), back(std::get<1>(grads)), back(std::get<2>(grads))};
}

TORCH_LIBRARY_IMPL(aten, PrivateUse1, m) {
  m.impl("empty.memory_format", empty);
  m.impl("empty_strided", empty_strided);
  m.impl("_copy_from", copy_from);
  m.impl("_copy_from_and_resize", copy_from_and_resize);
  m.impl("resize_", resize);
  m.impl("convolution_overrideable", conv);
  m.impl("convolution_backward_overrideable", conv_backward);
  m.impl("set_.source_Storage", at::native::set_);
  m.impl("set_.source_Storage_storage_offset", set_storage);
  m.impl("set_.source_Tensor", at::native::set_tensor_);
  // Views must share the base's memory, which a copying fallback cannot do.
  // ATen's own implementations only rearrange sizes and strides.
  m.impl("as_strided", at::native::as_strided_tensorimpl);
  m.impl("view", at::native::view);
  m.impl("_reshape_alias", at::native::_reshape_alias);
  m.impl("unfold", at::native::unfold);
  m.impl("view_as_real", at::native::view_as_real);
  m.impl("view_as_complex", at::native::view_as_complex);
}

// copy_ hands extdev copies to _copy_from before it resolves conj/neg bits, and
// ATen's conj/neg fallbacks would resolve them with a copy: endless recursion.
// host_view carries the bits to the CPU copy_, which resolves them.
#define PASS_COPIES_THROUGH(key)                                              \
  TORCH_LIBRARY_IMPL(aten, key, m) {                                          \
    m.impl("_copy_from", torch::CppFunction::makeFallthrough());              \
    m.impl("_copy_from_and_resize", torch::CppFunction::makeFallthrough());   \
  }
PASS_COPIES_THROUGH(Conjugate)
PASS_COPIES_THROUGH(Negative)
// LITERALINCLUDE END: OPS

// LITERALINCLUDE START: FALLBACK
// cpu_fallback moves every tensor argument to the cpu without asking where it
// was, so on its own it would add a cpu tensor to an extdev one.
void fallback(const c10::OperatorHandle& op, torch::jit::Stack* stack) {
  SameDevice check{c10::toString(op.schema().operator_name())};
  for (const auto& arg : torch::jit::last(*stack, op.schema().arguments().size())) {
    if (arg.isTensor()) check(arg.toTensor());
    else if (arg.isTensorList()) for (const auto& t : arg.toTensorVector()) check(t);
    else if (arg.isOptionalTensorList()) for (const auto& t : arg.toOptionalTensorVector()) if (t) check(*t, true);
  }
  TORCH_CHECK_NOT_IMPLEMENTED(op.hasKernelForDispatchKey(c10::DispatchKey::CPU), check.op, " has no CPU kernel, and ",
                              c10::get_privateuse1_backend(), " runs ops with their CPU kernels");
  at::native::cpu_fallback(op, stack, /*error_on_views=*/true);
}

TORCH_LIBRARY_IMPL(_, PrivateUse1, m) {
  m.fallback(torch::CppFunction::makeFromBoxedFunction<&fallback>());
}
// LITERALINCLUDE END: FALLBACK

// Sparse tensors have dispatch keys of their own (SparseCOO and SparseCsr for
// this device).  A sparse tensor is dense tensors (indices, values) and sizes;
// ATen's kernels that make one and read its parts are the same for every
// device, so they serve this one too.  With them, copying a sparse tensor to
// and from the cpu works, and sparse_fallback below runs every other sparse op.
TORCH_LIBRARY_IMPL(aten, SparsePrivateUse1, m) {
  m.impl("empty.memory_format", at::native::empty_sparse_symint);
  m.impl("_sparse_coo_tensor_with_dims", at::native::new_with_dims_sparse);
  m.impl("_sparse_coo_tensor_with_dims_and_tensors", at::native::new_with_dims_and_tensor_sparse_symint);
  m.impl("_indices", at::native::_indices_sparse);
  m.impl("_values", at::native::_values_sparse);
  m.impl("indices", at::native::indices_sparse);
  m.impl("values", at::native::values_sparse);
  m.impl("_nnz", at::native::_nnz_sparse);
  m.impl("sparse_dim", at::native::sparse_dim_sparse);
  m.impl("dense_dim", at::native::dense_dim_sparse);
  m.impl("is_coalesced", at::native::is_coalesced_sparse);
  m.impl("_coalesced_", at::native::_coalesced_sparse_);
}

TORCH_LIBRARY_IMPL(aten, SparseCsrPrivateUse1, m) {
  m.impl("empty.memory_format", at::native::empty_sparse_compressed_symint);
  m.impl("crow_indices", at::native::crow_indices_sparse_csr);
  m.impl("col_indices", at::native::col_indices_sparse_csr);
  m.impl("values", at::native::values_sparse_csr);
  m.impl("_nnz", at::native::_nnz_sparse_csr);
  m.impl("sparse_dim", at::native::sparse_dim_sparse_csr);
  m.impl("dense_dim", at::native::dense_dim_sparse_csr);
}

// The parts of the cpu sparse tensor `src` put into the device's `dst`, without
// dispatching: a sparse copy_ would come back to sparse_fallback.
void set_sparse(const at::Tensor& dst, const at::Tensor& src) {
  auto device = dst.device();
  if (src.layout() == at::kSparse) {
    auto* impl = at::sparse::get_sparse_impl(dst);
    impl->raw_resize_(src.sparse_dim(), src.dense_dim(), src.sizes());
    impl->set_indices_and_values_unsafe(src._indices().to(device), src._values().to(device));
    impl->set_coalesced(src.is_coalesced());
  } else {
    auto [compressed, plain] = at::sparse_csr::getCompressedPlainIndices(src);
    at::sparse_csr::get_sparse_csr_impl(dst)->set_member_tensors(
        compressed.to(device), plain.to(device), src.values().to(device), src.sizes());
  }
}

// LITERALINCLUDE START: SPARSE
// cpu_fallback runs dense CPU kernels only.  Sparse ops get copies of their
// arguments on the cpu, are dispatched as usual, and their results are copied
// back, as are the arguments they write into (in-place ops, out=).
void sparse_fallback(const c10::OperatorHandle& op, torch::jit::Stack* stack) {
  const auto& schema = op.schema();
  SameDevice check{c10::toString(schema.operator_name())};
  std::vector<std::pair<at::Tensor, at::Tensor>> written;  // (the argument, its cpu copy)
  const size_t n = schema.arguments().size(), first = stack->size() - n;
  for (size_t i = 0; i < n; ++i) {
    auto& arg = (*stack)[first + i];
    const auto* alias = schema.arguments()[i].alias_info();
    if (arg.isTensor() && arg.toTensor().defined()) {
      const auto t = arg.toTensor();
      check(t);
      arg = t.cpu();
      if (alias && alias->isWrite()) written.emplace_back(t, arg.toTensor());
    } else if (arg.isTensorList()) {
      auto list = arg.toTensorVector();
      for (auto& t : list) check(t), t = t.cpu();
      arg = list;
    }
  }
  // With no tensor to move (a factory op), dispatching again would come back here.
  TORCH_CHECK_NOT_IMPLEMENTED(check.first, check.op, " has no sparse ", c10::get_privateuse1_backend(), " kernel");
  op.callBoxed(stack);
  for (auto& [arg, copy] : written) {
    if (arg.layout() == at::kStrided) at::_copy_from_and_resize(copy, arg);
    else set_sparse(arg, copy);
  }
  for (size_t i = stack->size() - schema.returns().size(); i < stack->size(); ++i) {
    auto& ret = (*stack)[i];
    if (!ret.isTensor() || !ret.toTensor().defined()) continue;
    auto same = std::find_if(written.begin(), written.end(), [&](auto& w) { return w.second.is_same(ret.toTensor()); });
    ret = same != written.end() ? same->first : ret.toTensor().to(*check.first);
  }
}
// LITERALINCLUDE END: SPARSE

// addmm is structured: for a key without a kernel of its own, ATen's generic
// kernel makes the result with mat1's layout, sparse, where the CPU kernel
// makes it dense.  The fallback runs the CPU kernel.
TORCH_LIBRARY_IMPL(aten, SparseCsrPrivateUse1, m) {
  m.impl("addmm", torch::CppFunction::makeFromBoxedFunction<&sparse_fallback>());
}

TORCH_LIBRARY_IMPL(_, SparsePrivateUse1, m) {
  m.fallback(torch::CppFunction::makeFromBoxedFunction<&sparse_fallback>());
}

TORCH_LIBRARY_IMPL(_, SparseCsrPrivateUse1, m) {
  m.fallback(torch::CppFunction::makeFromBoxedFunction<&sparse_fallback>());
}

// What the Python device module asks of the C++ half: torch.ops.extdev.*
TORCH_LIBRARY(extdev, m) {
  m.def("current_device() -> int", [] { return int64_t(current_index); });
  m.def("set_device(int index) -> ()", [](int64_t i) { check_index(c10::DeviceIndex(i)); current_index = i; });
  m.def("device_count() -> int", [] { return int64_t(kDeviceCount); });
  m.def("memory_allocated(int index) -> int", [](int64_t i) {
    check_index(c10::DeviceIndex(i));
    return bytes_in_use[i].load();
  });
}

}  // namespace
