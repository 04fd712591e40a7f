// LiteRT (TFLite's successor, PyPI `ai-edge-litert`) custom op around the depthwise 3x3 kernel of
// kernels/depthwise3x3: the same C source IREE links (included, not copied), behind LiteRT's C API
// custom-op kernel (LiteRtCustomOpKernel, LiteRtAddCustomOpKernelOption: the "CustomOpDispatcher"
// route, which replaces TfLiteRegistration + MutableOpResolver::AddCustom).
//
// Custom op "Depthwise3x3Relu6" (version 1) in a .tflite graph: inputs X [1, H, W, C] f32 (NHWC),
// W [1, 3, 3, C] (TFLite's depthwise filter layout: HWC), B [C]; output
// Y [1, OH, OW, C] = min(max(depthwise3x3(X, W, pad 1) + B, 0), 6). The stride is the op's
// custom_options: one byte, 1 or 2.
//
// Python's LiteRT API has no hook for a custom op (ai_edge_litert.compiled_model; the
// Interpreter's custom_op_registerers needs tflite::MutableOpResolver::AddCustom, which the wheel
// does not export), so this library also carries the few calls that load a model with the op
// registered and run it; compare.py drives them with ctypes.
//
// Built as: zig cc -shared -fPIC -O3 -march=native -std=c11 -I<LiteRT's litert/c headers>
//           -I<kernel dir> -L<ai_edge_litert> -lLiteRt
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "litert/c/litert_common.h"
#include "litert/c/litert_compiled_model.h"
#include "litert/c/litert_custom_op_kernel.h"
#include "litert/c/litert_environment.h"
#include "litert/c/litert_model.h"
#include "litert/c/litert_options.h"
#include "litert/c/litert_tensor_buffer.h"

#include "depthwise3x3.c"  // the kernel, as IREE compiles it

#define EXPORT __attribute__((visibility("default")))

typedef struct {
  int stride;
  float *ones;  // the kernel's `scale`: the BatchNorm is folded into W and B
  size_t n_ones;
} OpState;

static LiteRtStatus op_init(void *user_data, const void *init_data, size_t init_data_size) {
  OpState *s = user_data;
  s->stride = init_data_size >= 1 ? ((const uint8_t *)init_data)[0] : 1;
  return (s->stride == 1 || s->stride == 2) ? kLiteRtStatusOk : kLiteRtStatusErrorInvalidArgument;
}

static LiteRtStatus op_output_layouts(void *user_data, size_t num_inputs,
                                      const LiteRtLayout *in, size_t num_outputs,
                                      LiteRtLayout *out) {
  OpState *s = user_data;
  if (num_inputs != 3 || num_outputs != 1 || in[0].rank != 4) return kLiteRtStatusErrorInvalidArgument;
  memset(&out[0], 0, sizeof out[0]);
  out[0].rank = 4;
  out[0].dimensions[0] = 1;
  out[0].dimensions[1] = (in[0].dimensions[1] - 1) / s->stride + 1;
  out[0].dimensions[2] = (in[0].dimensions[2] - 1) / s->stride + 1;
  out[0].dimensions[3] = in[0].dimensions[3];
  return kLiteRtStatusOk;
}

static LiteRtStatus op_run(void *user_data, size_t num_inputs, const LiteRtTensorBuffer *inputs,
                           size_t num_outputs, LiteRtTensorBuffer *outputs) {
  OpState *s = user_data;
  (void)num_inputs, (void)num_outputs;
  LiteRtRankedTensorType t;
  LiteRtStatus st = LiteRtGetTensorBufferTensorType(inputs[0], &t);
  if (st != kLiteRtStatusOk) return st;
  const size_t h = (size_t)t.layout.dimensions[1], w = (size_t)t.layout.dimensions[2],
               c = (size_t)t.layout.dimensions[3], stride = (size_t)s->stride;
  const size_t oh = (h - 1) / stride + 1, ow = (w - 1) / stride + 1;
  if (s->n_ones < c) {
    free(s->ones);
    s->ones = malloc(c * sizeof(float));
    if (!s->ones) return kLiteRtStatusErrorMemoryAllocationFailure;
    for (size_t i = 0; i < c; ++i) s->ones[i] = 1.0f;
    s->n_ones = c;
  }
  void *p[4];
  for (int i = 0; i < 3; ++i)
    if ((st = LiteRtLockTensorBuffer(inputs[i], &p[i], kLiteRtTensorBufferLockModeRead)) != kLiteRtStatusOk)
      return st;
  if ((st = LiteRtLockTensorBuffer(outputs[0], &p[3], kLiteRtTensorBufferLockModeWrite)) != kLiteRtStatusOk)
    return st;
  float *in = p[0], *filter = p[1], *bias = p[2], *out = p[3];
  if (stride == 1)
    depthwise3x3_bn_relu6_s1_nhwc(in, in, 0, h * w * c, 1, filter, filter, 0, 9 * c, 1, s->ones,
                                  s->ones, 0, c, 1, bias, bias, 0, c, 1, out, out, 0, oh * ow * c,
                                  1, h, w, c, oh, ow, 0, oh);
  else
    depthwise3x3_bn_relu6_s2_nhwc(in, in, 0, h * w * c, 1, filter, filter, 0, 9 * c, 1, s->ones,
                                  s->ones, 0, c, 1, bias, bias, 0, c, 1, out, out, 0, oh * ow * c,
                                  1, h, w, c, oh, ow, 0, oh);
  for (int i = 0; i < 3; ++i) LiteRtUnlockTensorBuffer(inputs[i]);
  LiteRtUnlockTensorBuffer(outputs[0]);
  return kLiteRtStatusOk;
}

static LiteRtStatus op_destroy(void *user_data) {
  OpState *s = user_data;
  free(s->ones);
  s->ones = NULL;
  s->n_ones = 0;
  return kLiteRtStatusOk;
}

static const LiteRtCustomOpKernel depthwise_kernel = {
    .Init = op_init, .GetOutputLayouts = op_output_layouts, .Run = op_run, .Destroy = op_destroy};

// ---------------------------------------------------------------------------------------------
// Loading and running a model (one input, one output) through LiteRT's CompiledModel on the CPU.

typedef struct {
  LiteRtEnvironment env;
  LiteRtModel model;
  LiteRtOptions options;
  LiteRtCompiledModel compiled;
  LiteRtTensorBuffer in, out;
  OpState op;
} Runner;

EXPORT void dw_litert_close(Runner *r) {
  if (!r) return;
  if (r->in) LiteRtDestroyTensorBuffer(r->in);
  if (r->out) LiteRtDestroyTensorBuffer(r->out);
  if (r->compiled) LiteRtDestroyCompiledModel(r->compiled);
  if (r->options) LiteRtDestroyOptions(r->options);
  if (r->model) LiteRtDestroyModel(r->model);
  if (r->env) LiteRtDestroyEnvironment(r->env);
  free(r);
}

// Returns NULL and sets *status (LiteRT's) and *step (where it failed) on failure.
EXPORT Runner *dw_litert_open(const char *model_path, int with_custom_op, int *status, int *step) {
  Runner *r = calloc(1, sizeof *r);
  LiteRtStatus st = kLiteRtStatusOk;
  LiteRtTensorBufferRequirements req;
  LiteRtRankedTensorType tt;
#define STEP(n, expr)                        \
  do {                                       \
    *step = (n);                             \
    if ((st = (expr)) != kLiteRtStatusOk) goto fail; \
  } while (0)
  STEP(1, LiteRtCreateEnvironment(0, NULL, &r->env));
  STEP(2, LiteRtCreateModelFromFile(r->env, model_path, &r->model));
  STEP(3, LiteRtCreateOptions(&r->options));
  STEP(4, LiteRtSetOptionsHardwareAccelerators(r->options, kLiteRtHwAcceleratorCpu));
  if (with_custom_op)
    STEP(5, LiteRtAddCustomOpKernelOption(r->options, "Depthwise3x3Relu6", 1, &depthwise_kernel, &r->op));
  STEP(6, LiteRtCreateCompiledModel(r->env, r->model, r->options, &r->compiled));
  STEP(7, LiteRtGetCompiledModelInputBufferRequirements(r->compiled, 0, 0, &req));
  STEP(8, LiteRtGetCompiledModelInputTensorLayout(r->compiled, 0, 0, &tt.layout));
  tt.element_type = kLiteRtElementTypeFloat32;
  STEP(9, LiteRtCreateManagedTensorBufferFromRequirements(r->env, &tt, req, &r->in));
  STEP(10, LiteRtGetCompiledModelOutputBufferRequirements(r->compiled, 0, 0, &req));
  STEP(11, LiteRtGetCompiledModelOutputTensorLayouts(r->compiled, 0, 1, &tt.layout, false));
  STEP(12, LiteRtCreateManagedTensorBufferFromRequirements(r->env, &tt, req, &r->out));
#undef STEP
  *status = 0;
  return r;
fail:
  *status = (int)st;
  dw_litert_close(r);
  return NULL;
}

static int copy(LiteRtTensorBuffer b, void *data, size_t bytes, int to_buffer) {
  void *p;
  size_t size;
  if (LiteRtGetTensorBufferSize(b, &size) != kLiteRtStatusOk || size < bytes) return -1;
  if (LiteRtLockTensorBuffer(b, &p, to_buffer ? kLiteRtTensorBufferLockModeWrite
                                              : kLiteRtTensorBufferLockModeRead) != kLiteRtStatusOk)
    return -1;
  if (to_buffer)
    memcpy(p, data, bytes);
  else
    memcpy(data, p, bytes);
  LiteRtUnlockTensorBuffer(b);
  return 0;
}

EXPORT int dw_litert_set_input(Runner *r, const float *x, size_t bytes) {
  return copy(r->in, (void *)x, bytes, 1);
}
EXPORT int dw_litert_get_output(Runner *r, float *y, size_t bytes) { return copy(r->out, y, bytes, 0); }
EXPORT int dw_litert_run(Runner *r) {
  return (int)LiteRtRunCompiledModel(r->compiled, 0, 1, &r->in, 1, &r->out);
}
