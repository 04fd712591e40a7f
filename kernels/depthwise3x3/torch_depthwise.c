// The entry the generated spec calls (kernel.toml) for a torch depthwise Conv2d(C, C, K, stride 1 or
// 2, padding K // 2, groups=C, bias=False), K = 3 or 5: MobileNetV3-small's eleven, YOLOX-nano's
// thirty. The spec hands it the tensors already in depthwise3x3.c's layouts (kernel.toml's
// `.permute(...)` args: the swap transposes them and the output back, and IREE folds those transposes
// into the elementwise dispatches beside them): the unpadded input NHWC [h][w][c], the filter
// [K][K][c], the output NHWC [oh][ow][c]. This picks depthwise3x3.c's plain entry for the window and
// the stride (from the sizes) and runs this workgroup's share of output rows: the dispatch has one
// workgroup per output row; the BatchNorm and activation after it stay IREE's.
#include <stddef.h>

#define MEMREF(name) \
  const float *name##_base, const float *name, size_t name##_offset, size_t name##_size, size_t name##_stride
#define MEMREF_OUT(name) float *name##_base, float *name, size_t name##_offset, size_t name##_size, size_t name##_stride
#define ENTRY(name)                                                                                          \
  void name(MEMREF(in), MEMREF(filter), MEMREF_OUT(out), size_t h, size_t w, size_t c, size_t oh, size_t ow, \
            size_t row_begin, size_t row_count)

ENTRY(depthwise3x3_s1_nhwc);
ENTRY(depthwise3x3_s2_nhwc);
ENTRY(depthwise5x5_s1_nhwc);
ENTRY(depthwise5x5_s2_nhwc);

__attribute__((visibility("protected"))) void depthwise_torch(MEMREF(in), MEMREF(filter), MEMREF_OUT(out),
                                                              size_t h, size_t w, size_t c, size_t k, size_t oh,
                                                              size_t ow, size_t wg, size_t wgs) {
  size_t row_begin = oh * wg / wgs, row_end = oh * (wg + 1) / wgs;
  if (row_end == row_begin) return;
  void (*entry)(MEMREF(in), MEMREF(filter), MEMREF_OUT(out), size_t, size_t, size_t, size_t, size_t, size_t,
                size_t) = k == 5 ? (oh == h ? depthwise5x5_s1_nhwc : depthwise5x5_s2_nhwc)
                                 : (oh == h ? depthwise3x3_s1_nhwc : depthwise3x3_s2_nhwc);
  entry(in_base, in, in_offset, in_size, in_stride, filter_base, filter, filter_offset, filter_size, filter_stride,
        out_base, out, out_offset, out_size, out_stride, h, w, c, oh, ow, row_begin, row_end - row_begin);
}
