//===- AttnModule.cpp - The attn._attn extension --------------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// nanobind bindings over libAttnC (the compiler's and the runtime's C API):
// compile a spec into an artifact, load it, ask it for its outputs' shapes
// and launch it on DLPack tensors (NumPy arrays, torch tensors, any
// __dlpack__ producer) without copying. The Python layer (attn/) builds the
// user-facing API on these.
//
//===----------------------------------------------------------------------===//

#include "attn-c/Compiler.h"

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace nb = nanobind;

namespace {

/// A spec that does not compile (its message is the located diagnostic).
struct CompileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The last C API error as the Python exception of its status: a bad
/// argument or option is a ValueError, a missing file or artifact an
/// OSError, a failure of the kernel or the platform a RuntimeError.
[[noreturn]] void throwStatus(attn_status status) {
  const char *message = attn_last_error();
  if (status == ATTN_ERROR_NOT_FOUND) {
    PyErr_SetString(PyExc_OSError, message);
    throw nb::python_error();
  }
  if (status == ATTN_ERROR_RUNTIME)
    throw std::runtime_error(message);
  throw nb::value_error(message);
}

struct Artifact {
  std::unique_ptr<attn_artifact, void (*)(attn_artifact *)> handle{
      nullptr, attn_artifact_free};
};

struct Kernel {
  std::unique_ptr<attn_kernel, void (*)(attn_kernel *)> handle{
      nullptr, attn_kernel_free};
};

/// Options as the C API takes them; the strings live in the caller's frame.
attn_compile_options makeOptions(const std::string &target, int deviceId,
                                 const std::optional<std::string> &dtype,
                                 int64_t splitKV,
                                 const std::optional<std::string> &cacheDir,
                                 bool noCache) {
  attn_compile_options options{};
  options.target = target.c_str();
  options.device_id = deviceId;
  options.dtype = dtype ? dtype->c_str() : nullptr;
  options.split_kv = splitKV;
  options.cache_dir = cacheDir ? cacheDir->c_str() : nullptr;
  options.no_cache = noCache;
  return options;
}

/// A spec that does not compile raises CompileError (the located
/// diagnostics); bad options (target, dtype, split_kv) raise ValueError.
[[noreturn]] void throwCompileError(attn_status status) {
  if (status == ATTN_ERROR_COMPILE) {
    std::string message = attn_last_error();
    while (!message.empty() && message.back() == '\n')
      message.pop_back();
    throw CompileError(message);
  }
  throwStatus(status);
}

Artifact compile(const std::string &spec, const std::string &name,
                 const std::string &target, int deviceId,
                 const std::optional<std::string> &dtype, int64_t splitKV,
                 const std::optional<std::string> &cacheDir, bool noCache) {
  attn_compile_options options =
      makeOptions(target, deviceId, dtype, splitKV, cacheDir, noCache);
  attn_artifact *artifact = nullptr;
  attn_status status;
  {
    nb::gil_scoped_release release;
    status = attn_compile(spec.data(), spec.size(), name.c_str(), &options,
                          &artifact);
  }
  if (status != ATTN_OK)
    throwCompileError(status);
  Artifact result;
  result.handle.reset(artifact);
  return result;
}

std::string compileIR(const std::string &spec, const std::string &name,
                      const std::string &target, int deviceId,
                      const std::optional<std::string> &dtype, int64_t splitKV,
                      const std::string &level) {
  static const std::pair<const char *, attn_ir_level> kLevels[] = {
      {"mlir", ATTN_IR_MLIR},
      {"tile", ATTN_IR_TILE},
      {"kernel", ATTN_IR_KERNEL},
      {"llvm", ATTN_IR_LLVM},
      {"ptx", ATTN_IR_PTX}};
  std::optional<attn_ir_level> found;
  for (const auto &[levelName, value] : kLevels)
    if (level == levelName)
      found = value;
  if (!found)
    throw nb::value_error(("level must be mlir, tile, kernel, llvm or ptx, "
                           "got '" +
                           level + "'")
                              .c_str());
  attn_compile_options options =
      makeOptions(target, deviceId, dtype, splitKV, std::nullopt, true);
  attn_artifact *artifact = nullptr;
  attn_status status;
  {
    nb::gil_scoped_release release;
    status = attn_compile_ir(spec.data(), spec.size(), name.c_str(), &options,
                             *found, &artifact);
  }
  if (status != ATTN_OK)
    throwCompileError(status);
  size_t size = 0;
  const void *data = attn_artifact_data(artifact, &size);
  std::string text(static_cast<const char *>(data), size);
  attn_artifact_free(artifact);
  return text;
}

/// The attn_dtype of a DLPack dtype, or nothing for one Attn has no kernels
/// for.
std::optional<attn_dtype> dtypeOf(nb::dlpack::dtype dtype) {
  if (dtype.lanes != 1)
    return std::nullopt;
  auto code = static_cast<nb::dlpack::dtype_code>(dtype.code);
  if (code == nb::dlpack::dtype_code::Float && dtype.bits == 32)
    return ATTN_F32;
  if (code == nb::dlpack::dtype_code::Float && dtype.bits == 16)
    return ATTN_F16;
  if (code == nb::dlpack::dtype_code::Bfloat && dtype.bits == 16)
    return ATTN_BF16;
  if (code == nb::dlpack::dtype_code::Int && dtype.bits == 32)
    return ATTN_I32;
  return std::nullopt;
}

/// A DLPack dtype's name, as NumPy and PyTorch spell it.
std::string dtypeName(nb::dlpack::dtype dtype) {
  const char *kind = "unknown";
  switch (static_cast<nb::dlpack::dtype_code>(dtype.code)) {
  case nb::dlpack::dtype_code::Int:
    kind = "int";
    break;
  case nb::dlpack::dtype_code::UInt:
    kind = "uint";
    break;
  case nb::dlpack::dtype_code::Float:
    kind = "float";
    break;
  case nb::dlpack::dtype_code::Bfloat:
    kind = "bfloat";
    break;
  case nb::dlpack::dtype_code::Complex:
    kind = "complex";
    break;
  case nb::dlpack::dtype_code::Bool:
    return "bool";
  }
  return kind + std::to_string(dtype.bits);
}

/// The arguments of a launch: views of the caller's tensors, which the
/// ndarrays keep alive.
struct Views {
  std::vector<nb::ndarray<>> writable;
  std::vector<nb::ndarray<nb::ro>> readOnly;
  std::vector<std::string> names;
  std::vector<attn_arg> args;
};

/// Converts `value` (anything with __dlpack__ or the buffer protocol) for
/// parameter `name`; out and lse must be writable. Raises TypeError or
/// ValueError naming the parameter.
attn_tensor viewOf(const std::string &name, nb::handle value, Views &views) {
  bool output = name == "out" || name == "lse";
  auto fill = [&](const auto &array) {
    if (array.ndim() > ATTN_MAX_RANK)
      throw nb::value_error(("operand '" + name + "' has rank " +
                             std::to_string(array.ndim()) + ", more than " +
                             std::to_string(ATTN_MAX_RANK))
                                .c_str());
    std::optional<attn_dtype> dtype = dtypeOf(array.dtype());
    if (!dtype)
      throw nb::type_error(("operand '" + name + "' has dtype " +
                            dtypeName(array.dtype()) +
                            "; Attn kernels take float32, float16, bfloat16 "
                            "and (index operands) int32")
                               .c_str());
    attn_tensor t{};
    t.data = const_cast<void *>(static_cast<const void *>(array.data()));
    t.dtype = *dtype;
    t.rank = static_cast<int32_t>(array.ndim());
    for (size_t i = 0; i < array.ndim(); ++i) {
      t.shape[i] = static_cast<int64_t>(array.shape(i));
      t.strides[i] = array.stride(i);
    }
    int device = array.device_type();
    if (device == nb::device::cpu::value)
      t.device = ATTN_DEVICE_CPU;
    else if (device == nb::device::cuda::value)
      t.device = ATTN_DEVICE_CUDA;
    else
      throw nb::value_error(("operand '" + name + "' is on DLPack device " +
                             std::to_string(device) +
                             "; Attn runs on the CPU (1) and CUDA (2)")
                                .c_str());
    t.device_id = array.device_id();
    return t;
  };
  try {
    if (output) {
      views.writable.push_back(nb::cast<nb::ndarray<>>(value, false));
      return fill(views.writable.back());
    }
    views.readOnly.push_back(nb::cast<nb::ndarray<nb::ro>>(value, false));
    return fill(views.readOnly.back());
  } catch (const nb::cast_error &) {
    std::string type = nb::type_name(value.type()).c_str();
    throw nb::type_error(
        ("operand '" + name + "' is a " + type + ", not an array" +
         (output ? " Attn can write (a writable NumPy array or a tensor)"
                 : " (a NumPy array, a torch tensor or a DLPack tensor)"))
            .c_str());
  }
}

void collect(const nb::dict &tensors, Views &views) {
  views.names.reserve(tensors.size());
  views.args.reserve(tensors.size());
  for (auto [key, value] : tensors) {
    if (!nb::isinstance<nb::str>(key))
      throw nb::type_error("operand names must be strings");
    views.names.push_back(nb::cast<std::string>(key));
  }
  size_t i = 0;
  for (auto [key, value] : tensors) {
    attn_tensor t = viewOf(views.names[i], value, views);
    views.args.push_back(attn_arg{views.names[i].c_str(), t});
    ++i;
  }
}

void launch(Kernel &kernel, const nb::dict &tensors, uintptr_t stream,
            int deviceId, int numThreads) {
  Views views;
  collect(tensors, views);
  attn_launch_options options{};
  options.device_id = deviceId;
  options.stream = reinterpret_cast<void *>(stream);
  options.num_threads = numThreads;
  attn_status status;
  {
    nb::gil_scoped_release release;
    status =
        attn_kernel_launch(kernel.handle.get(), views.args.data(),
                           static_cast<int32_t>(views.args.size()), &options);
  }
  if (status != ATTN_OK)
    throwStatus(status);
}

void validate(const Kernel &kernel, const nb::dict &tensors) {
  Views views;
  collect(tensors, views);
  if (attn_status status =
          attn_kernel_validate(kernel.handle.get(), views.args.data(),
                               static_cast<int32_t>(views.args.size())))
    throwStatus(status);
}

/// The tile kinds of (batch, head): (q_tiles, kv_tiles, kinds row-major).
nb::tuple tileKinds(const Kernel &kernel, const nb::dict &tensors,
                    int64_t batch, int64_t head) {
  Views views;
  collect(tensors, views);
  int32_t numArgs = static_cast<int32_t>(views.args.size());
  int64_t qTiles = 0, kvTiles = 0;
  if (attn_status status = attn_kernel_tile_kinds(
          kernel.handle.get(), views.args.data(), numArgs, batch, head, nullptr,
          0, &qTiles, &kvTiles))
    throwStatus(status);
  std::vector<int32_t> kinds(static_cast<size_t>(qTiles * kvTiles));
  if (attn_status status = attn_kernel_tile_kinds(
          kernel.handle.get(), views.args.data(), numArgs, batch, head,
          kinds.data(), static_cast<int64_t>(kinds.size()), &qTiles, &kvTiles))
    throwStatus(status);
  // The kinds as bytes of int32 (NumPy reads them without a list).
  return nb::make_tuple(qTiles, kvTiles,
                        nb::bytes(reinterpret_cast<const char *>(kinds.data()),
                                  kinds.size() * sizeof(int32_t)));
}

std::string maskSvg(const Kernel &kernel, const nb::dict &tensors,
                    int64_t batch, int64_t head) {
  Views views;
  collect(tensors, views);
  int32_t numArgs = static_cast<int32_t>(views.args.size());
  size_t size = 0;
  if (attn_status status =
          attn_kernel_mask_svg(kernel.handle.get(), views.args.data(), numArgs,
                               batch, head, nullptr, 0, &size))
    throwStatus(status);
  std::string svg(size + 1, '\0');
  if (attn_status status =
          attn_kernel_mask_svg(kernel.handle.get(), views.args.data(), numArgs,
                               batch, head, svg.data(), svg.size(), &size))
    throwStatus(status);
  svg.resize(size);
  return svg;
}

std::vector<int64_t> outputDims(const Kernel &kernel, const std::string &name) {
  int32_t rank = 0;
  int64_t dims[ATTN_MAX_RANK];
  if (attn_status status = attn_kernel_output_dims(kernel.handle.get(),
                                                   name.c_str(), &rank, dims))
    throwStatus(status);
  return std::vector<int64_t>(dims, dims + rank);
}

std::vector<std::string> params(const Kernel &kernel) {
  std::vector<std::string> names;
  for (int32_t i = 0; i < attn_kernel_num_params(kernel.handle.get()); ++i)
    names.push_back(attn_kernel_param_name(kernel.handle.get(), i));
  return names;
}

} // namespace

NB_MODULE(_attn, m) {
  m.doc() = "Attn's compiler and runtime (libAttnC); use the attn package.";
  nb::exception<CompileError>(m, "CompileError");

  nb::class_<Artifact>(m, "Artifact")
      .def_prop_ro("data",
                   [](const Artifact &a) {
                     size_t size = 0;
                     const void *data =
                         attn_artifact_data(a.handle.get(), &size);
                     return nb::bytes(static_cast<const char *>(data), size);
                   })
      .def_prop_ro("manifest",
                   [](const Artifact &a) {
                     return std::string(attn_artifact_manifest(a.handle.get()));
                   })
      .def_prop_ro("spec_hash",
                   [](const Artifact &a) {
                     return std::string(
                         attn_artifact_spec_hash(a.handle.get()));
                   })
      .def_prop_ro("from_cache",
                   [](const Artifact &a) {
                     return attn_artifact_from_cache(a.handle.get()) != 0;
                   })
      .def("load", [](const Artifact &a) {
        attn_kernel *kernel = nullptr;
        if (attn_status status = attn_artifact_load(a.handle.get(), &kernel))
          throwStatus(status);
        Kernel result;
        result.handle.reset(kernel);
        return result;
      });

  nb::class_<Kernel>(m, "Kernel")
      .def_prop_ro("manifest",
                   [](const Kernel &k) {
                     return std::string(attn_kernel_manifest(k.handle.get()));
                   })
      .def_prop_ro("params", &params)
      .def("output_dims", &outputDims, nb::arg("name"))
      .def("validate", &validate, nb::arg("tensors"))
      .def("tile_kinds", &tileKinds, nb::arg("tensors"), nb::arg("batch"),
           nb::arg("head"))
      .def("mask_svg", &maskSvg, nb::arg("tensors"), nb::arg("batch"),
           nb::arg("head"))
      .def("launch", &launch, nb::arg("tensors"), nb::arg("stream") = 0,
           nb::arg("device_id") = 0, nb::arg("num_threads") = 0);

  m.def("compile", &compile, nb::arg("spec"), nb::arg("name"),
        nb::arg("target"), nb::arg("device_id"), nb::arg("dtype").none(),
        nb::arg("split_kv"), nb::arg("cache_dir").none(), nb::arg("no_cache"));
  m.def("compile_ir", &compileIR, nb::arg("spec"), nb::arg("name"),
        nb::arg("target"), nb::arg("device_id"), nb::arg("dtype").none(),
        nb::arg("split_kv"), nb::arg("level"));
  m.def("version", [] { return std::string(attn_compiler_version()); });
}
