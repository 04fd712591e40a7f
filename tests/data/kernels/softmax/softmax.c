// Softmax over the last axis of a row-major tensor: `n` (args: "input:0[1]") values a row. Each
// tensor arrives as a flat memref (base, data, offset, size, stride): `iree-matrix kernel ir`
// prints the prototype. No libc in an embedded kernel, so exp is our own (rel. error < 2e-7).
#include <stddef.h>
#include <stdint.h>

static float exp_f32(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  float k = __builtin_floorf(x * 1.44269504f + 0.5f);
  float r = (x - k * 0.693145752f) - k * 1.42860677e-6f;  // ln 2 in two parts
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666672f + r * (0.0416666418f +
            r * (0.00833336823f + r * 0.00138873165f)))));
  union { uint32_t i; float f; } scale = {(uint32_t)((int32_t)k + 127) << 23};
  return p * scale.f;
}

__attribute__((visibility("protected"))) void softmax_last(
    const float* in_base, const float* in, size_t in_offset, size_t in_size, size_t in_stride,
    float* out_base, float* out, size_t out_offset, size_t out_size, size_t out_stride, size_t n) {
  for (size_t row = 0; row + n <= out_size; row += n) {
    const float* x = in + in_offset + row;
    float* y = out + out_offset + row;
    float top = x[0], sum = 0.0f;
    for (size_t i = 1; i < n; ++i) top = x[i] > top ? x[i] : top;
    for (size_t i = 0; i < n; ++i) sum += (y[i] = exp_f32(x[i] - top));
    for (size_t i = 0; i < n; ++i) y[i] /= sum;
  }
}
