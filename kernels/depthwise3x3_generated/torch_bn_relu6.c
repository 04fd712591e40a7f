// The entry the generated spec calls (kernel.toml): the ops of one torch Conv2d(C, C, 3, stride 1
// or 2, padding 1, groups=C) + BatchNorm2d + ReLU6 hand over their inputs as the model holds them
// (the unpadded NHWC input, the filter [C][3][3], the BatchNorm's running_mean, its 1/sqrt(var +
// eps) as IREE computes it at compile time, its weight and bias) and the sizes; this folds the
// BatchNorm into a per-channel scale and shift, lays the filter out [3][3][C] and calls
// depthwise3x3.c's fused entry for the stride the sizes say. O(C) work per call beside the
// convolution's O(H W C).
#include <stddef.h>

#define MEMREF(name) \
  const float *name##_base, const float *name, size_t name##_offset, size_t name##_size, size_t name##_stride
#define FLAT(name) name##_base, name, 0, name##_size, 1

void depthwise3x3_bn_relu6_s1_nhwc(MEMREF(in), MEMREF(filter), MEMREF(scale), MEMREF(shift), float *out_base,
                                   float *out, size_t out_offset, size_t out_size, size_t out_stride, size_t h,
                                   size_t w, size_t c, size_t oh, size_t ow, size_t row_begin, size_t row_count);
void depthwise3x3_bn_relu6_s2_nhwc(MEMREF(in), MEMREF(filter), MEMREF(scale), MEMREF(shift), float *out_base,
                                   float *out, size_t out_offset, size_t out_size, size_t out_stride, size_t h,
                                   size_t w, size_t c, size_t oh, size_t ow, size_t row_begin, size_t row_count);

__attribute__((visibility("protected"))) void depthwise3x3_bn_relu6_torch(
    MEMREF(in), MEMREF(filter), MEMREF(mean), MEMREF(invstd), MEMREF(weight), MEMREF(bias), float *out_base,
    float *out, size_t out_offset, size_t out_size, size_t out_stride, size_t h, size_t w, size_t c, size_t oh,
    size_t ow, size_t wg, size_t wgs) {
  // This workgroup's output rows of the `wgs` the dispatch is split into (kernel.toml's args): as
  // IREE splits its own dispatches, so the call runs on as many threads as the runtime has.
  size_t row_begin = oh * wg / wgs, row_end = oh * (wg + 1) / wgs;
  float ft[9 * c], scale[c], shift[c];  // on the worker's stack (kernel.toml's run_flags)
  const float *f = filter + filter_offset;
  for (size_t i = 0; i < c; ++i) {
    for (size_t k = 0; k < 9; ++k) ft[k * c + i] = f[i * 9 + k];
    scale[i] = invstd[invstd_offset + i] * weight[weight_offset + i];
    shift[i] = bias[bias_offset + i] - mean[mean_offset + i] * scale[i];
  }
  const float *x = in + in_offset, *ft_base = ft, *scale_base = scale, *shift_base = shift;
  size_t x_size = h * w * c, ft_size = 9 * c, scale_size = c, shift_size = c;
  (void)in_base, (void)in_size, (void)in_stride, (void)filter_base, (void)filter_size, (void)filter_stride,
      (void)invstd_base, (void)invstd_size, (void)invstd_stride, (void)mean_base, (void)mean_size, (void)mean_stride,
      (void)weight_base, (void)weight_size, (void)weight_stride, (void)bias_base, (void)bias_size,
      (void)bias_stride, (void)out_stride;
  const float *x_base = in_base;
  if (oh == h)
    depthwise3x3_bn_relu6_s1_nhwc(FLAT(x), FLAT(ft), FLAT(scale), FLAT(shift), out_base, out + out_offset, 0,
                                  out_size, 1, h, w, c, oh, ow, row_begin, row_end - row_begin);
  else
    depthwise3x3_bn_relu6_s2_nhwc(FLAT(x), FLAT(ft), FLAT(scale), FLAT(shift), out_base, out + out_offset, 0,
                                  out_size, 1, h, w, c, oh, ow, row_begin, row_end - row_begin);
}
