// Global average pooling of an NCHW f32 tensor to one value per plane ([N][C][H][W] -> [N][C][1][1]):
// torch's adaptive_avg_pool2d(x, 1) (nn.AdaptiveAvgPool2d(1), MobileNetV3's squeeze-excitation and
// head pools). torch-mlir lowers that op to a gather inside a 6-D generic that IREE runs several times
// slower than a plain reduction (docs/kernels.md); here each plane is summed BLOCK values at a time in
// clang's vector extension (blocks.h: a link to ../softmax/blocks.h), then scaled by 1 / (h * w). This
// workgroup's share of the planes (the dispatch is split over workgroups as IREE splits its own).
// Each tensor arrives as a flat memref (base, data, offset, size, stride).
#include "blocks.h"

static float plane_mean(const float *x, size_t n) {
  vblock acc = 0.0f;
  size_t i = 0;
  for (; i + BLOCK <= n; i += BLOCK) acc += LOAD(x + i);
  float sum = 0.0f;
  for (; i < n; ++i) sum += x[i];
  for (int lane = 0; lane < BLOCK; ++lane) sum += acc[lane];
  return sum * (1.0f / (float)n);
}

__attribute__((visibility("protected"))) void global_avg_pool(
    const float *in_base, const float *in, size_t in_offset, size_t in_size, size_t in_stride,
    float *out_base, float *out, size_t out_offset, size_t out_size, size_t out_stride, size_t h,
    size_t w, size_t wg, size_t wgs) {
  (void)in_base, (void)in_size, (void)in_stride, (void)out_base, (void)out_stride;
  const size_t n = h * w;
  if (n == 0 || wgs == 0) return;
  size_t plane, end;
  share(out_size, wg, wgs, &plane, &end);
  for (; plane < end; ++plane) out[out_offset + plane] = plane_mean(in + in_offset + plane * n, n);
}
