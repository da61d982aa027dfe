/*===- Compiler.h - The Attn compiler's C API ----------------------*- C
-*-===*\
|*                                                                            *|
|* Part of the Attn project: an MLIR-based attention compiler.               *|
|*                                                                            *|
|*===----------------------------------------------------------------------===*|
|*                                                                            *|
|* Compiles an attention spec (docs/spec.md) for a target into an artifact   *|
|* and its manifest, through the on-disk artifact cache; the runtime C API   *|
|* (attn/runtime/attn_runtime.h, included here) then loads, validates and    *|
|* launches it. Both live in libAttnC. Every call returns a status; on an    *|
|* error, attn_last_error() holds the message: ATTN_ERROR_COMPILE for a     *|
|* spec that does not compile, with the located diagnostics                 *|
|* ("spec.yaml:7:11: error: ..." and the source line),                      *|
|* ATTN_ERROR_INVALID_ARGUMENT for options and arguments, and              *|
|* ATTN_ERROR_NOT_FOUND for a spec file that cannot be read. Nothing        *|
|* is printed and nothing aborts. Calls on different threads are            *|
|* independent. docs/c-api.md documents the API with an example.            *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef ATTN_C_COMPILER_H
#define ATTN_C_COMPILER_H

#include "attn/runtime/attn_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What to compile for. Zero-initialized (or NULL options): the host CPU,
 * the spec's dtype and split, the default cache. */
typedef struct attn_compile_options {
  /* NULL or "cpu": the host CPU; "sm_80", "sm_86", "sm_89", "sm_90",
   * "sm_90a": an NVIDIA GPU; "cuda": the chip of CUDA device `device_id`
   * (asked of the driver). */
  const char *target;
  int32_t device_id;
  /* NULL or "": the spec's dtype; else "f32", "f16" or "bf16". */
  const char *dtype;
  /* 0: the spec's schedule.split_kv; else the kv chunks per work item
   * (1: no split) as the spec's field would say. */
  int64_t split_kv;
  /* NULL or "": $ATTN_CACHE_DIR, else $XDG_CACHE_HOME/attn, else
   * ~/.cache/attn (the runtime's ArtifactCache). */
  const char *cache_dir;
  /* Non-zero: compile without reading or writing the cache. */
  int32_t no_cache;
} attn_compile_options;

/* What attn_compile_ir prints. */
typedef enum attn_ir_level {
  ATTN_IR_MLIR = 0,   /* the spec as attn IR (attn.attention) */
  ATTN_IR_TILE = 1,   /* the tile level: the flash loop of one work item */
  ATTN_IR_KERNEL = 2, /* the target's kernel in the LLVM dialect */
  ATTN_IR_LLVM = 3,   /* optimized LLVM IR (the CPU target) */
  ATTN_IR_PTX = 4,    /* PTX (GPU targets) */
  ATTN_IR_LEVEL_FORCE_INT32 = -0x7fffffff - 1, /* not a level */
} attn_ir_level;

/* A compiled artifact (a shared library for the CPU, a cubin for a GPU) or
 * an IR text, with its manifest and spec hash. */
typedef struct attn_artifact attn_artifact;

/* Compiles `size` bytes of spec text (YAML) at `spec`; `name` is what
 * diagnostics call it (a path, "<string>"; NULL: "<spec>"). On success
 * *artifact owns the result (attn_artifact_free). */
attn_status attn_compile(const char *spec, size_t size, const char *name,
                         const attn_compile_options *options,
                         attn_artifact **artifact);

/* The same for the spec file at `path`. */
attn_status attn_compile_file(const char *path,
                              const attn_compile_options *options,
                              attn_artifact **artifact);

/* The spec lowered to `level` for the options' target, as text in an
 * artifact without a manifest (never cached). */
attn_status attn_compile_ir(const char *spec, size_t size, const char *name,
                            const attn_compile_options *options,
                            attn_ir_level level, attn_artifact **artifact);

/* The artifact's bytes (IR text is NUL-terminated past `*size`). */
const void *attn_artifact_data(const attn_artifact *artifact, size_t *size);
/* The manifest's JSON text ("" for IR). */
const char *attn_artifact_manifest(const attn_artifact *artifact);
/* The spec hash the manifest and the cache key carry. */
const char *attn_artifact_spec_hash(const attn_artifact *artifact);
/* Non-zero when the artifact came from the cache rather than a compile. */
int32_t attn_artifact_from_cache(const attn_artifact *artifact);

/* Loads the artifact for its target (attn_kernel_load_bytes). */
attn_status attn_artifact_load(const attn_artifact *artifact,
                               attn_kernel **kernel);

void attn_artifact_free(attn_artifact *artifact);

/* The compiler's identity: version, commit, source hash and LLVM version. */
const char *attn_compiler_version(void);

#ifdef __cplusplus
}
#endif

#endif /* ATTN_C_COMPILER_H */
