// Layer normalisation over the last axis of a row-major f32 tensor (torch.nn.LayerNorm(n) with its
// weight and bias, F.layer_norm over the last dimension): rows of `n` values (kernel.toml's args: the
// input's last dimension), this workgroup's share of them (the dispatch is split over workgroups as
// IREE splits its own). Each row: its mean, its biased variance (two passes, as torch computes it),
// then (x - mean) / sqrt(var + eps) * weight + bias; BLOCK values at a time in clang's vector
// extension (blocks.h: a link to ../softmax/blocks.h), so one source vectorises for AVX-512, AVX2,
// NEON or plain scalar code. eps is kernel.toml's filter (`eps = 1e-5`, torch's default): a
// LayerNorm with another eps is not declared to this function. Each tensor arrives as a flat memref
// (base, data, offset, size, stride): `iree-matrix kernel ir` prints the prototype.
#include "blocks.h"

#define EPS 1e-5f

// 1/sqrt(v) for v > 0 without libm (IREE's embedded linker has none): the exponent's estimate, then
// Newton's steps y (1.5 - v/2 y^2), each doubling the correct bits (3 steps: float precision).
static inline float rsqrt(float v) {
  union {
    float f;
    unsigned u;
  } bits = {v};
  bits.u = 0x5f3759dfu - (bits.u >> 1);
  float y = bits.f;
  for (int i = 0; i < 3; ++i) y = y * (1.5f - 0.5f * v * y * y);
  return y;
}

static void norm_row(const float *x, const float *w, const float *b, float *y, size_t n) {
  vblock sum = 0.0f;
  size_t i = 0;
  for (; i + BLOCK <= n; i += BLOCK) sum += LOAD(x + i);
  float mean = 0.0f;
  for (int lane = 0; lane < BLOCK; ++lane) mean += sum[lane];
  for (; i < n; ++i) mean += x[i];
  mean /= (float)n;
  vblock sq = 0.0f;
  for (i = 0; i + BLOCK <= n; i += BLOCK) {
    vblock d = LOAD(x + i) - mean;
    sq += d * d;
  }
  float var = 0.0f;
  for (int lane = 0; lane < BLOCK; ++lane) var += sq[lane];
  for (; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  const float r = rsqrt(var / (float)n + EPS);
  for (i = 0; i + BLOCK <= n; i += BLOCK) STORE(y + i, (LOAD(x + i) - mean) * r * LOAD(w + i) + LOAD(b + i));
  for (; i < n; ++i) y[i] = (x[i] - mean) * r * w[i] + b[i];
}

__attribute__((visibility("protected"))) void layer_norm_last(
    const float *in_base, const float *in, size_t in_offset, size_t in_size, size_t in_stride,
    const float *w_base, const float *w, size_t w_offset, size_t w_size, size_t w_stride,
    const float *b_base, const float *b, size_t b_offset, size_t b_size, size_t b_stride, float *out_base,
    float *out, size_t out_offset, size_t out_size, size_t out_stride, size_t n, size_t wg, size_t wgs) {
  (void)in_base, (void)in_size, (void)in_stride, (void)w_base, (void)w_size, (void)w_stride, (void)b_base,
      (void)b_size, (void)b_stride, (void)out_base, (void)out_stride;
  if (n == 0 || wgs == 0) return;
  size_t begin, end;
  share((size_t)((double)out_size / (double)n), wg, wgs, &begin, &end);  // rows: exact in a double
  for (size_t row = begin; row < end; ++row)
    norm_row(in + in_offset + row * n, w + w_offset, b + b_offset, out + out_offset + row * n, n);
}
