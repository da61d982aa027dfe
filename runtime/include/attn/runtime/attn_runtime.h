/*===- attn_runtime.h - The Attn runtime C API ---------------------*- C
-*-===*\
|*                                                                            *|
|* Part of the Attn project: an MLIR-based attention compiler.               *|
|*                                                                            *|
|*===----------------------------------------------------------------------===*|
|*                                                                            *|
|* Tensors cross the API as DLPack-compatible views (pointer, dtype, rank,   *|
|* shape, strides in elements, device). Every call returns a status; on an   *|
|* error, attn_last_error() names the argument and what is wrong with it.    *|
|* Nothing here aborts.                                                       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef ATTN_RUNTIME_ATTN_RUNTIME_H
#define ATTN_RUNTIME_ATTN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum attn_status {
  ATTN_OK = 0,
  ATTN_ERROR_INVALID_ARGUMENT = 1, /* a tensor or option does not fit */
  ATTN_ERROR_NOT_FOUND = 2,        /* an artifact or entry is missing */
  ATTN_ERROR_RUNTIME = 3,          /* the kernel or the platform failed */
  ATTN_ERROR_COMPILE = 4, /* a spec does not compile (attn-c/Compiler.h);
                             the message holds the located diagnostics */
} attn_status;

/* Element types, numbered as DLPack's (code, bits) pairs would be. */
typedef enum attn_dtype {
  ATTN_F32 = 0,
  ATTN_F16 = 1,
  ATTN_BF16 = 2,
  ATTN_I32 = 3,
  /* Not a dtype: a negative enumerator makes every int32 a value of the
   * type, so that a caller's out-of-range code is an error the runtime
   * reports, not undefined behavior in the C++ that reads it. */
  ATTN_DTYPE_FORCE_INT32 = -0x7fffffff - 1,
} attn_dtype;

typedef enum attn_device_kind {
  ATTN_DEVICE_CPU = 1,  /* kDLCPU */
  ATTN_DEVICE_CUDA = 2, /* kDLCUDA */
  ATTN_DEVICE_KIND_FORCE_INT32 =
      -0x7fffffff - 1, /* as ATTN_DTYPE_FORCE_INT32 */
} attn_device_kind;

#define ATTN_MAX_RANK 8

/* A strided view of memory the caller owns. */
typedef struct attn_tensor {
  void *data;
  attn_dtype dtype;
  int32_t rank;
  int64_t shape[ATTN_MAX_RANK];
  int64_t strides[ATTN_MAX_RANK]; /* in elements, as DLPack */
  attn_device_kind device;
  int32_t device_id;
} attn_tensor;

/* What a kernel parameter accepts: -1 in `shape` matches any size. */
typedef struct attn_tensor_spec {
  const char *name; /* the operand name used in error messages */
  attn_dtype dtype;
  int32_t rank;
  int64_t shape[ATTN_MAX_RANK];
  int32_t inner_contiguous; /* non-zero: the last stride must be 1 */
} attn_tensor_spec;

/* Checks `tensor` against `spec` and the expected device. On a mismatch,
 * returns ATTN_ERROR_INVALID_ARGUMENT and sets the error message, which
 * names the operand, the field, the expected and the actual value. */
attn_status attn_check_tensor(const attn_tensor *tensor,
                              const attn_tensor_spec *spec,
                              attn_device_kind device);

/* A compiled kernel: an artifact and its JSON manifest (attn-compile
 * --emit=so writes both for the CPU: a shared library and kernel.so.json;
 * a CUDA kernel is PTX text or a cubin, and the runtime opens the NVIDIA
 * driver at load time). */
typedef struct attn_kernel attn_kernel;

/* A kernel argument, by the parameter name of the manifest ("q", "k", "v",
 * "out", "lse", or an optional operand such as "kv_indices"). */
typedef struct attn_arg {
  const char *name;
  attn_tensor tensor;
} attn_arg;

/* Loads a kernel from an artifact file and its manifest file, for the
 * manifest's target. On success *kernel owns it (attn_kernel_free). */
attn_status attn_kernel_load(const char *artifact_path,
                             const char *manifest_path, attn_kernel **kernel);

/* The same from memory: `size` bytes of the artifact at `artifact` and the
 * manifest's JSON text (NUL-terminated). Both are copied. */
attn_status attn_kernel_load_bytes(const void *artifact, size_t size,
                                   const char *manifest_json,
                                   attn_kernel **kernel);

/* The kernel's manifest as JSON text (owned by the kernel), NULL for a NULL
 * kernel. docs/runtime.md documents the fields. */
const char *attn_kernel_manifest(const attn_kernel *kernel);

/* The number of parameters a caller passes and the name of parameter
 * `index`, in call order (NULL when out of range). The runtime fills the
 * kernel's internal parameters (tile tables, split-KV rows) itself. */
int32_t attn_kernel_num_params(const attn_kernel *kernel);
const char *attn_kernel_param_name(const attn_kernel *kernel, int32_t index);

/* The shape of output `name` ("out", or "lse" when the kernel returns it)
 * of a launch whose query tensor is `q`, for a caller that allocates the
 * outputs: out has q's shape with the v head dim, lse is [B, Hq, Lq] (or
 * [Hq, tokens_q] with ragged storage). Writes the rank and up to
 * ATTN_MAX_RANK sizes (`shape` holds ATTN_MAX_RANK entries). */
attn_status attn_kernel_output_shape(const attn_kernel *kernel,
                                     const attn_tensor *q, const char *name,
                                     int32_t *rank, int64_t *shape);

/* The same as a rule, for callers whose sizes are symbolic (a framework's
 * shape function): per dimension a size (>= 0), or -1 - a for the size of
 * q's axis a. `dims` holds ATTN_MAX_RANK entries. */
attn_status attn_kernel_output_dims(const attn_kernel *kernel, const char *name,
                                    int32_t *rank, int64_t *dims);

/* The tile classification of batch entry `batch`, query head `head` of a
 * launch with `args` (validated as a launch is; every tensor in host
 * memory, whatever the kernel's device, since the mask reads the operands'
 * values): *q_tiles x *kv_tiles kinds, row-major, 0 empty, 1 full, 2
 * partial, for the manifest's tiles of that sequence. The counts are always
 * written; the kinds when `capacity` holds them all (call with NULL and 0
 * to size the buffer). */
attn_status attn_kernel_tile_kinds(const attn_kernel *kernel,
                                   const attn_arg *args, int32_t num_args,
                                   int64_t batch, int64_t head, int32_t *kinds,
                                   int64_t capacity, int64_t *q_tiles,
                                   int64_t *kv_tiles);

/* The same as an SVG picture: the visible pairs and the tiles tinted by
 * kind. Writes the text and a NUL when `capacity` bytes hold them; *size is
 * always the text's length (call with NULL and 0 to size the buffer). */
attn_status attn_kernel_mask_svg(const attn_kernel *kernel,
                                 const attn_arg *args, int32_t num_args,
                                 int64_t batch, int64_t head, char *svg,
                                 size_t capacity, size_t *size);

/* Checks the arguments against the manifest and each other without running
 * the kernel. */
attn_status attn_kernel_validate(const attn_kernel *kernel,
                                 const attn_arg *args, int32_t num_args);

/* Where a launch runs. Zero-initialized (or NULL options): the kernel's own
 * device kind (the host for CPU kernels), device 0, no stream, all hardware
 * threads. */
typedef struct attn_launch_options {
  attn_device_kind device; /* 0: the kernel's device kind */
  int32_t device_id;
  void *stream;        /* a CUDA stream for GPU kernels; NULL on the CPU */
  int32_t num_threads; /* CPU worker threads, 0: all */
} attn_launch_options;

/* Validates, then runs the kernel. The CPU target takes only the host
 * device and no stream, and says so. A CUDA kernel takes device memory of
 * `device_id` and runs on `stream` (a CUstream) without waiting, or, with a
 * NULL stream, on the default stream and waits for the kernel, so that its
 * failure is this call's. Concurrent launches of one kernel run (or are
 * queued) one after the other. */
attn_status attn_kernel_launch(attn_kernel *kernel, const attn_arg *args,
                               int32_t num_args,
                               const attn_launch_options *options);

void attn_kernel_free(attn_kernel *kernel);

/* The message of the last error on this thread ("" when none). */
const char *attn_last_error(void);

/* The name of a dtype ("f32", "f16", "bf16", "i32"). */
const char *attn_dtype_name(attn_dtype dtype);

#ifdef __cplusplus
}
#endif

#endif /* ATTN_RUNTIME_ATTN_RUNTIME_H */
