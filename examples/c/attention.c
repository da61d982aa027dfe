/*===- attention.c - Compile a spec and run it from C ---------------------===*\
|*                                                                            *|
|* Part of the Attn project: an MLIR-based attention compiler.               *|
|*                                                                            *|
|*===----------------------------------------------------------------------===*|
|*                                                                            *|
|* Compiles a causal GQA spec for the CPU through the compiler's C API,     *|
|* runs it on random inputs through the runtime's C API and checks a few    *|
|* outputs against a naive loop. Then shows the errors a caller gets: a     *|
|* located spec error and an argument error that names the operand.        *|
|*                                                                            *|
|*   attn-c-example              run the built-in spec and check it         *|
|*   attn-c-example SPEC.yaml    compile a spec file, list its parameters   *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "attn-c/Compiler.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { B = 2, L = 48, HQ = 4, HKV = 2, D = 16 };

static const char kSpec[] = "name: causal_gqa\n"
                            "dtype: f32\n"
                            "head_dim: 16\n"
                            "heads: {q: 4, kv: 2}\n"
                            "mask: causal\n"
                            "outputs: [out, lse]\n";

/* A bshd tensor view of `data`: [B, L, H, D], contiguous. */
static attn_tensor view(float *data, int64_t heads) {
  attn_tensor t;
  memset(&t, 0, sizeof(t));
  t.data = data;
  t.dtype = ATTN_F32;
  t.rank = 4;
  t.shape[0] = B;
  t.shape[1] = L;
  t.shape[2] = heads;
  t.shape[3] = D;
  t.strides[3] = 1;
  t.strides[2] = D;
  t.strides[1] = heads * D;
  t.strides[0] = L * heads * D;
  t.device = ATTN_DEVICE_CPU;
  return t;
}

static float *randomTensor(size_t n, unsigned *state) {
  float *data = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; ++i) {
    *state = *state * 1664525u + 1013904223u;
    data[i] = (float)((*state >> 8) / 16777216.0 * 2.0 - 1.0);
  }
  return data;
}

/* out[b, q, h, :] by a naive loop in double. */
static void naive(const float *q, const float *k, const float *v, int b, int i,
                  int h, double *out) {
  double scale = 1.0 / sqrt((double)D), scores[L], max = -INFINITY, sum = 0;
  int g = h / (HQ / HKV);
  for (int j = 0; j <= i; ++j) { /* causal: keys 0 ... i */
    double s = 0;
    for (int d = 0; d < D; ++d)
      s += (double)q[((b * L + i) * HQ + h) * D + d] *
           k[((b * L + j) * HKV + g) * D + d];
    scores[j] = s * scale;
    if (scores[j] > max)
      max = scores[j];
  }
  for (int d = 0; d < D; ++d)
    out[d] = 0;
  for (int j = 0; j <= i; ++j) {
    double p = exp(scores[j] - max);
    sum += p;
    for (int d = 0; d < D; ++d)
      out[d] += p * v[((b * L + j) * HKV + g) * D + d];
  }
  for (int d = 0; d < D; ++d)
    out[d] /= sum;
}

static int fail(const char *what) {
  fprintf(stderr, "error: %s: %s\n", what, attn_last_error());
  return 1;
}

int main(int argc, char **argv) {
  /* Compile, through the cache, for the host CPU. */
  attn_compile_options options;
  memset(&options, 0, sizeof(options));
  options.target = "cpu";
  attn_artifact *artifact = NULL;
  attn_status status =
      argc > 1 ? attn_compile_file(argv[1], &options, &artifact)
               : attn_compile(kSpec, sizeof(kSpec) - 1, "causal_gqa.yaml",
                              &options, &artifact);
  if (status != ATTN_OK)
    return fail("compile");
  attn_kernel *kernel = NULL;
  if (attn_artifact_load(artifact, &kernel) != ATTN_OK)
    return fail("load");
  printf("compiled %s (%s)\n", argc > 1 ? argv[1] : "causal_gqa.yaml",
         attn_artifact_from_cache(artifact) ? "from the cache" : "compiled");
  attn_artifact_free(artifact);
  if (argc > 1) {
    printf("parameters:");
    for (int32_t i = 0; i < attn_kernel_num_params(kernel); ++i)
      printf(" %s", attn_kernel_param_name(kernel, i));
    printf("\n");
    attn_kernel_free(kernel);
    return 0;
  }

  unsigned state = 1;
  float *q = randomTensor((size_t)B * L * HQ * D, &state);
  float *k = randomTensor((size_t)B * L * HKV * D, &state);
  float *v = randomTensor((size_t)B * L * HKV * D, &state);
  float *out = calloc((size_t)B * L * HQ * D, sizeof(float));
  float *lse = calloc((size_t)B * HQ * L, sizeof(float));

  /* The runtime says what shape lse has: [B, Hq, Lq]. */
  attn_arg args[5] = {{"q", view(q, HQ)},
                      {"k", view(k, HKV)},
                      {"v", view(v, HKV)},
                      {"out", view(out, HQ)},
                      {"lse", view(lse, HQ)}};
  attn_tensor *lseView = &args[4].tensor;
  if (attn_kernel_output_shape(kernel, &args[0].tensor, "lse", &lseView->rank,
                               lseView->shape) != ATTN_OK)
    return fail("output shape");
  lseView->strides[2] = 1;
  lseView->strides[1] = lseView->shape[2];
  lseView->strides[0] = lseView->shape[1] * lseView->shape[2];
  lseView->strides[3] = 0;
  if (attn_kernel_launch(kernel, args, 5, NULL) != ATTN_OK)
    return fail("launch");

  /* A few rows against the naive loop. */
  const int rows[][3] = {{0, 0, 0}, {0, 17, 3}, {1, 47, 1}, {1, 5, 2}};
  double worst = 0;
  for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); ++r) {
    int b = rows[r][0], i = rows[r][1], h = rows[r][2];
    double want[D];
    naive(q, k, v, b, i, h, want);
    for (int d = 0; d < D; ++d) {
      double got = out[((b * L + i) * HQ + h) * D + d];
      double err = fabs(got - want[d]);
      if (err > worst)
        worst = err;
    }
  }
  printf("max abs error against the naive loop: %.2e\n", worst);
  if (worst > 1e-5) {
    fprintf(stderr, "error: the kernel disagrees with the naive loop\n");
    return 1;
  }

  /* Errors come back as messages. A mistyped spec field: */
  static const char kBad[] =
      "name: bad\nhead_dim: 16\nheads: 4\nmask: casual\n";
  if (attn_compile(kBad, sizeof(kBad) - 1, "bad.yaml", &options, &artifact) ==
      ATTN_OK)
    return fail("a bad spec compiled");
  printf("bad spec: %s", attn_last_error());
  /* A tensor with the wrong head count: */
  args[1].tensor.shape[2] = 3;
  if (attn_kernel_validate(kernel, args, 5) == ATTN_OK)
    return fail("a bad argument validated");
  printf("bad argument: %s\n", attn_last_error());

  attn_kernel_free(kernel);
  free(q);
  free(k);
  free(v);
  free(out);
  free(lse);
  printf("ok\n");
  return 0;
}
