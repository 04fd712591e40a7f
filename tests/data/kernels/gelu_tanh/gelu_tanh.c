// GELU with the tanh approximation (torch.nn.GELU(approximate="tanh")), element by element:
// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). Each tensor arrives as a flat memref (base,
// data, offset, size, stride). No libc in an embedded kernel, so exp is our own.
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

__attribute__((visibility("protected"))) void gelu_tanh(
    const float* in_base, const float* in, size_t in_offset, size_t in_size, size_t in_stride,
    float* out_base, float* out, size_t out_offset, size_t out_size, size_t out_stride) {
  for (size_t i = 0; i < out_size; ++i) {
    float x = in[in_offset + i * in_stride];
    float u = 0.797884561f * (x + 0.044715f * x * x * x);
    u = u < -9.0f ? -9.0f : (u > 9.0f ? 9.0f : u);
    float t = 1.0f - 2.0f / (exp_f32(2.0f * u) + 1.0f);  // tanh(u)
    out[out_offset + i * out_stride] = 0.5f * x * (1.0f + t);
  }
}
