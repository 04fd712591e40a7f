// ONNX Runtime custom-op library around the depthwise 3x3 kernel of kernels/depthwise3x3: the same
// C source IREE links (included, not copied), behind ORT's C API (OrtCustomOp, RegisterCustomOps).
//
// Op iree_matrix::Depthwise3x3Relu6(X, W, B) -> Y, attribute `stride` (1 or 2):
//   X [1, H, W, C] f32 (NHWC), W [3, 3, C] (HWC, ONNX's [C, 1, 3, 3] transposed), B [C];
//   Y [1, OH, OW, C] = min(max(depthwise3x3(X, W, pad 1) + B, 0), 6)  (Conv + Clip(0, 6) of the
//   ONNX export, BatchNorm folded into W and B).
// Built as: zig cc -shared -fPIC -O3 -march=native -std=c11 -I<ORT headers> -I<kernel dir>
// Loaded with SessionOptions.register_custom_ops_library(path) (the entry point is RegisterCustomOps).
#include <stdint.h>
#include <stdlib.h>

#include "onnxruntime_c_api.h"

#include "depthwise3x3.c"  // the kernel, as IREE compiles it

#define EXPORT __attribute__((visibility("default")))

static const OrtApi *ort;

typedef struct {
  int64_t stride;
  float *ones;  // the kernel's `scale` input: BatchNorm is already folded into W and B
  size_t n_ones;
} Kernel;

#define TRY(expr)                         \
  do {                                    \
    OrtStatus *status_ = (expr);          \
    if (status_) return status_;          \
  } while (0)

static OrtStatusPtr ORT_API_CALL create_kernel(const OrtCustomOp *op, const OrtApi *api,
                                               const OrtKernelInfo *info, void **out) {
  (void)op, (void)api;
  Kernel *k = calloc(1, sizeof *k);
  if (!k) return ort->CreateStatus(ORT_FAIL, "out of memory");
  k->stride = 1;
  OrtStatus *st = ort->KernelInfoGetAttribute_int64(info, "stride", &k->stride);
  if (st) ort->ReleaseStatus(st);  // absent: stride 1
  if (k->stride != 1 && k->stride != 2) {
    free(k);
    return ort->CreateStatus(ORT_INVALID_ARGUMENT, "Depthwise3x3Relu6: stride must be 1 or 2");
  }
  *out = k;
  return NULL;
}

static void ORT_API_CALL destroy_kernel(void *p) {
  Kernel *k = p;
  free(k->ones);
  free(k);
}

static OrtStatusPtr ORT_API_CALL compute(void *p, OrtKernelContext *ctx) {
  Kernel *k = p;
  const OrtValue *x, *w, *b;
  TRY(ort->KernelContext_GetInput(ctx, 0, &x));
  TRY(ort->KernelContext_GetInput(ctx, 1, &w));
  TRY(ort->KernelContext_GetInput(ctx, 2, &b));
  OrtTensorTypeAndShapeInfo *shape;
  TRY(ort->GetTensorTypeAndShape(x, &shape));
  size_t rank;
  int64_t d[4];
  TRY(ort->GetDimensionsCount(shape, &rank));
  if (rank == 4) TRY(ort->GetDimensions(shape, d, 4));
  ort->ReleaseTensorTypeAndShapeInfo(shape);
  if (rank != 4 || d[0] != 1)
    return ort->CreateStatus(ORT_INVALID_ARGUMENT, "Depthwise3x3Relu6: X must be [1, H, W, C]");
  const size_t h = (size_t)d[1], wd = (size_t)d[2], c = (size_t)d[3], s = (size_t)k->stride;
  const size_t oh = (h - 1) / s + 1, ow = (wd - 1) / s + 1;  // pad 1, kernel 3
  int64_t od[4] = {1, (int64_t)oh, (int64_t)ow, (int64_t)c};
  OrtValue *y;
  TRY(ort->KernelContext_GetOutput(ctx, 0, od, 4, &y));
  float *in, *filter, *bias, *out;
  TRY(ort->GetTensorMutableData((OrtValue *)x, (void **)&in));
  TRY(ort->GetTensorMutableData((OrtValue *)w, (void **)&filter));
  TRY(ort->GetTensorMutableData((OrtValue *)b, (void **)&bias));
  TRY(ort->GetTensorMutableData(y, (void **)&out));
  if (k->n_ones < c) {
    free(k->ones);
    k->ones = malloc(c * sizeof(float));
    if (!k->ones) return ort->CreateStatus(ORT_FAIL, "out of memory");
    for (size_t i = 0; i < c; ++i) k->ones[i] = 1.0f;
    k->n_ones = c;
  }
  // The kernel's ABI: each memref as (base, aligned, offset, size, stride), then the sizes and the
  // output rows to compute (all of them: one call, one thread).
  if (s == 1)
    depthwise3x3_bn_relu6_s1_nhwc(in, in, 0, h * wd * c, 1, filter, filter, 0, 9 * c, 1, k->ones,
                                  k->ones, 0, c, 1, bias, bias, 0, c, 1, out, out, 0, oh * ow * c,
                                  1, h, wd, c, oh, ow, 0, oh);
  else
    depthwise3x3_bn_relu6_s2_nhwc(in, in, 0, h * wd * c, 1, filter, filter, 0, 9 * c, 1, k->ones,
                                  k->ones, 0, c, 1, bias, bias, 0, c, 1, out, out, 0, oh * ow * c,
                                  1, h, wd, c, oh, ow, 0, oh);
  return NULL;
}

static const char *ORT_API_CALL op_name(const OrtCustomOp *op) { return (void)op, "Depthwise3x3Relu6"; }
static const char *ORT_API_CALL op_ep(const OrtCustomOp *op) { return (void)op, "CPUExecutionProvider"; }
static ONNXTensorElementDataType ORT_API_CALL io_type(const OrtCustomOp *op, size_t i) {
  return (void)op, (void)i, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
}
static size_t ORT_API_CALL n_inputs(const OrtCustomOp *op) { return (void)op, 3; }
static size_t ORT_API_CALL n_outputs(const OrtCustomOp *op) { return (void)op, 1; }
static OrtCustomOpInputOutputCharacteristic ORT_API_CALL required(const OrtCustomOp *op, size_t i) {
  return (void)op, (void)i, INPUT_OUTPUT_REQUIRED;
}
static OrtMemType ORT_API_CALL mem_type(const OrtCustomOp *op, size_t i) {
  return (void)op, (void)i, OrtMemTypeDefault;
}
static int ORT_API_CALL one_arity(const OrtCustomOp *op) { return (void)op, 1; }
static int ORT_API_CALL homogeneous(const OrtCustomOp *op) { return (void)op, 1; }
static int ORT_API_CALL start_version(const OrtCustomOp *op) { return (void)op, 1; }
static int ORT_API_CALL end_version(const OrtCustomOp *op) { return (void)op, INT32_MAX; }

static OrtCustomOp depthwise_op;
static OrtCustomOpDomain *domain;

// Called by SessionOptions.register_custom_ops_library: ORT hands in its API base; the header's
// ORT_API_VERSION is the oldest runtime this library loads into.
EXPORT OrtStatus *ORT_API_CALL RegisterCustomOps(OrtSessionOptions *options, const OrtApiBase *base) {
  ort = base->GetApi(ORT_API_VERSION);
  if (!ort) return NULL;  // a runtime older than the header: ORT reports the op as unknown
  depthwise_op = (OrtCustomOp){
      .version = ORT_API_VERSION,
      .GetName = op_name,
      .GetExecutionProviderType = op_ep,
      .GetInputType = io_type,
      .GetInputTypeCount = n_inputs,
      .GetOutputType = io_type,
      .GetOutputTypeCount = n_outputs,
      .KernelDestroy = destroy_kernel,
      .GetInputCharacteristic = required,
      .GetOutputCharacteristic = required,
      .GetInputMemoryType = mem_type,
      .GetVariadicInputMinArity = one_arity,
      .GetVariadicInputHomogeneity = homogeneous,
      .GetVariadicOutputMinArity = one_arity,
      .GetVariadicOutputHomogeneity = homogeneous,
      .CreateKernelV2 = create_kernel,
      .KernelComputeV2 = compute,
      .GetStartVersion = start_version,
      .GetEndVersion = end_version,
  };
  TRY(ort->CreateCustomOpDomain("iree_matrix", &domain));
  TRY(ort->CustomOpDomain_Add(domain, &depthwise_op));
  return ort->AddCustomOpDomain(options, domain);
}
