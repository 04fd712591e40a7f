// The entries the generated spec calls (kernel.toml), from the operands torch's Conv2d + BatchNorm2d +
// ReLU6 hand over as the model holds them: the BatchNorm's running_mean, its 1/sqrt(var + eps) as IREE
// computes it at compile time, its weight and bias, folded here into a per-channel scale and shift.
//
// depthwise3x3_bn_relu6_torch: one depthwise Conv2d(C, C, 3, stride 1 or 2, padding 1, groups=C)
// block, the unpadded NHWC input and the filter [C][3][3]; the filter is laid out [3][3][C] here and
// depthwise3x3.c's fused entry called for the stride the sizes say. That fold and layout are O(C)
// work (13 C values) beside the convolution's O(H W C), but the spec splits the call into one
// workgroup per output row, and done per row they took about a third of the layers' time on the 7x7
// and 14x14 layers (a row of few pixels). So a workgroup does a band of rows, BAND_PIXELS output
// pixels or more, and makes the fold and the layout once per band; the bands are spread over the
// workgroups (band b on workgroup b * wgs / bands, the others return at once), since the runtime hands
// a worker thread a run of consecutive workgroups.
//
// stem_bn_relu6_torch: the stem, Conv2d(3, 32, 3, stride 2, padding 1) of the NCHW image (its filter
// in IREE's HWCF layout) + BatchNorm2d + ReLU6, by depthwise3x3.c's stem entry, a row per workgroup.
#include <stddef.h>

#define BAND_PIXELS 1024
#define MEMREF(name) \
  const float *name##_base, const float *name, size_t name##_offset, size_t name##_size, size_t name##_stride
#define MEMREF_OUT(name) float *name##_base, float *name, size_t name##_offset, size_t name##_size, size_t name##_stride
#define FLAT(name) name##_base, name, 0, name##_size, 1

void depthwise3x3_bn_relu6_s1_nhwc(MEMREF(in), MEMREF(filter), MEMREF(scale), MEMREF(shift), MEMREF_OUT(out),
                                   size_t h, size_t w, size_t c, size_t oh, size_t ow, size_t row_begin,
                                   size_t row_count);
void depthwise3x3_bn_relu6_s2_nhwc(MEMREF(in), MEMREF(filter), MEMREF(scale), MEMREF(shift), MEMREF_OUT(out),
                                   size_t h, size_t w, size_t c, size_t oh, size_t ow, size_t row_begin,
                                   size_t row_count);
void conv3x3_s2_bn_relu6_nchw_nhwc(MEMREF(in), MEMREF(filter), MEMREF(scale), MEMREF(shift), MEMREF_OUT(out),
                                   size_t h, size_t w, size_t cin, size_t cout, size_t oh, size_t ow,
                                   size_t row_begin, size_t row_count);

// A BatchNorm's per-channel scale and shift: weight / sqrt(var + eps) and bias - mean * that.
static inline void fold(size_t c, const float *restrict mean, const float *restrict invstd,
                        const float *restrict weight, const float *restrict bias, float *restrict scale,
                        float *restrict shift) {
  for (size_t i = 0; i < c; ++i) {
    scale[i] = invstd[i] * weight[i];
    shift[i] = bias[i] - mean[i] * scale[i];
  }
}

__attribute__((visibility("protected"))) void depthwise3x3_bn_relu6_torch(
    MEMREF(in), MEMREF(filter), MEMREF(mean), MEMREF(invstd), MEMREF(weight), MEMREF(bias), MEMREF_OUT(out),
    size_t h, size_t w, size_t c, size_t oh, size_t ow, size_t wg, size_t wgs) {
  (void)in_size, (void)in_stride, (void)filter_base, (void)filter_size, (void)filter_stride, (void)invstd_base,
      (void)invstd_size, (void)invstd_stride, (void)mean_base, (void)mean_size, (void)mean_stride,
      (void)weight_base, (void)weight_size, (void)weight_stride, (void)bias_base, (void)bias_size,
      (void)bias_stride, (void)out_stride;
  // This workgroup's band, if it has one: `bands` bands of rows, band b on workgroup b * wgs / bands.
  size_t bands = oh * ow / BAND_PIXELS;
  bands = bands < 1 ? 1 : bands > wgs ? wgs : bands > oh ? oh : bands;
  size_t b = (wg * bands + wgs - 1) / wgs;  // the first band whose workgroup is not before this one
  if (b >= bands || b * wgs / bands != wg) return;
  size_t row_begin = oh * b / bands, row_end = oh * (b + 1) / bands;
  // On the worker's stack (kernel.toml's run_flags), 64-byte aligned as IREE's constants are: the
  // kernel loads 16 channels at a time, and from a float's alignment each load of the filter, scale
  // and shift spans two cache lines (the layers took 1.17x the time, with hot data on a Zen 4).
  float ft[9 * c] __attribute__((aligned(64))), scale[c] __attribute__((aligned(64))),
      shift[c] __attribute__((aligned(64)));
  const float *f = filter + filter_offset;
  for (size_t i = 0; i < c; ++i)  // reading the filter in address order
    for (size_t k = 0; k < 9; ++k) ft[k * c + i] = f[i * 9 + k];
  fold(c, mean + mean_offset, invstd + invstd_offset, weight + weight_offset, bias + bias_offset, scale, shift);
  const float *x = in + in_offset, *x_base = in_base, *ft_base = ft, *scale_base = scale, *shift_base = shift;
  size_t x_size = h * w * c, ft_size = 9 * c, scale_size = c, shift_size = c;
  if (oh == h)
    depthwise3x3_bn_relu6_s1_nhwc(FLAT(x), FLAT(ft), FLAT(scale), FLAT(shift), out_base, out + out_offset, 0,
                                  out_size, 1, h, w, c, oh, ow, row_begin, row_end - row_begin);
  else
    depthwise3x3_bn_relu6_s2_nhwc(FLAT(x), FLAT(ft), FLAT(scale), FLAT(shift), out_base, out + out_offset, 0,
                                  out_size, 1, h, w, c, oh, ow, row_begin, row_end - row_begin);
}

__attribute__((visibility("protected"))) void stem_bn_relu6_torch(
    MEMREF(in), MEMREF(filter), MEMREF(mean), MEMREF(invstd), MEMREF(weight), MEMREF(bias), MEMREF_OUT(out),
    size_t cin, size_t h, size_t w, size_t oh, size_t ow, size_t cout, size_t wg, size_t wgs) {
  (void)mean_base, (void)mean_size, (void)mean_stride, (void)invstd_base, (void)invstd_size, (void)invstd_stride,
      (void)weight_base, (void)weight_size, (void)weight_stride, (void)bias_base, (void)bias_size,
      (void)bias_stride;
  float scale[cout], shift[cout];
  fold(cout, mean + mean_offset, invstd + invstd_offset, weight + weight_offset, bias + bias_offset, scale, shift);
  size_t row_begin = oh * wg / wgs, row_end = oh * (wg + 1) / wgs;
  conv3x3_s2_bn_relu6_nchw_nhwc(in_base, in, in_offset, in_size, in_stride, filter_base, filter, filter_offset,
                                filter_size, filter_stride, scale, scale, 0, cout, 1, shift, shift, 0, cout, 1,
                                out_base, out, out_offset, out_size, out_stride, h, w, cin, cout, oh, ow,
                                row_begin, row_end - row_begin);
}
