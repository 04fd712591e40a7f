// Hardswish, x * min(max(x + 3, 0), 6) / 6, over the whole tensor. Each tensor arrives as a flat
// memref: base, data, offset, size, stride (the prototype `iree-matrix kernel ir` prints).
#include <stddef.h>

__attribute__((visibility("protected"))) void hswish_kernel(
    const float* in_base, const float* in, size_t in_offset, size_t in_size, size_t in_stride,
    float* out_base, float* out, size_t out_offset, size_t out_size, size_t out_stride) {
  for (size_t i = 0; i < out_size; ++i) {
    float x = in[in_offset + i * in_stride];
    float r = x + 3.0f;
    r = r < 0.0f ? 0.0f : (r > 6.0f ? 6.0f : r);
    out[out_offset + i * out_stride] = x * r / 6.0f;
  }
}
