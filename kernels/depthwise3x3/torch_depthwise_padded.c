// The entry the generated spec calls for YOLOX-nano's head.reg_convs.N.0: a depthwise Conv2d(64, 64,
// 3, padding 1, groups=64) whose input's tensor.pad IREE shares (CSE) with head.cls_convs.N.0's, which
// reads the same tensor. The pad is then cls_convs' op, not this module's, so this DAG starts at the
// padded tensor: the spec hands it NHWC [hp][wp][c] with the zero border already there. Its interior
// [hp - 2p][wp][c] from row p, column p (p = k / 2) is the unpadded input as depthwise3x3.c reads it
// (row stride wp * c): the window's reads past the interior's left and right edges land on the zero
// columns, and its rows above and below are skipped as padding. So this hands depthwise_torch
// (torch_depthwise.c) the interior, as h = hp - 2p, w = wp.
#include <stddef.h>

#define MEMREF(name) \
  const float *name##_base, const float *name, size_t name##_offset, size_t name##_size, size_t name##_stride
#define MEMREF_OUT(name) float *name##_base, float *name, size_t name##_offset, size_t name##_size, size_t name##_stride

void depthwise_torch(MEMREF(in), MEMREF(filter), MEMREF_OUT(out), size_t h, size_t w, size_t c, size_t k, size_t oh,
                     size_t ow, size_t wg, size_t wgs);

__attribute__((visibility("protected"))) void depthwise_torch_padded(MEMREF(in), MEMREF(filter), MEMREF_OUT(out),
                                                                     size_t hp, size_t wp, size_t c, size_t k,
                                                                     size_t oh, size_t ow, size_t wg, size_t wgs) {
  size_t p = k / 2;
  depthwise_torch(in_base, in + (p * wp + p) * c, in_offset, in_size, in_stride, filter_base, filter, filter_offset,
                  filter_size, filter_stride, out_base, out, out_offset, out_size, out_stride, hp - 2 * p, wp, c, k, oh,
                  ow, wg, wgs);
}
