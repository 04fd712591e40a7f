// GELU with the tanh approximation (torch.nn.GELU(approximate="tanh")), element by element:
// 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), computed as x / (1 + exp(-2u)) (the same
// value, without 1 + tanh(u)'s cancellation where u is near -0 or tanh's own for large |u|). This
// workgroup's share of the elements (the dispatch is split over workgroups as IREE splits its own),
// BLOCK at a time in clang's vector extension (blocks.h: a link to ../softmax/blocks.h), so one
// source vectorises for AVX-512, AVX2, NEON or plain scalar code. Each tensor arrives as a flat
// memref (base, data, offset, size, stride).
#include "blocks.h"

static inline __attribute__((always_inline)) void gelu_block(vblock *v) {
  vblock x = *v;
  vblock e = -1.595769122f * (x + 0.044715f * x * x * x);  // -2u
  vexp(&e);  // clamped: x where u is large, a float's tiny multiple of x where it is very negative
  *v = x / (1.0f + e);
}

__attribute__((visibility("protected"))) void gelu_tanh(
    const float *in_base, const float *in, size_t in_offset, size_t in_size, size_t in_stride,
    float *out_base, float *out, size_t out_offset, size_t out_size, size_t out_stride, size_t wg,
    size_t wgs) {
  (void)in_base, (void)in_size, (void)in_stride, (void)out_base, (void)out_stride;
  if (wgs == 0) return;
  size_t i, end;
  share(out_size, wg, wgs, &i, &end);
  const float *x = in + in_offset;
  float *y = out + out_offset;
  for (; i + BLOCK <= end; i += BLOCK) {
    vblock v = LOAD(x + i);
    gelu_block(&v);
    STORE(y + i, v);
  }
  if (i < end) {  // the tail as one block, its other lanes zero and never stored
    vblock v = 0.0f;
    for (size_t j = i; j < end; ++j) v[j - i] = x[j];
    gelu_block(&v);
    for (size_t j = i; j < end; ++j) y[j] = v[j - i];
  }
}
