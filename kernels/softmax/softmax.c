// Softmax over the last axis of a row-major f32 tensor of any rank (torch.softmax(x, dim=-1)): rows
// of `n` values (kernel.toml's args: the input's last dimension), this workgroup's share of them
// (the dispatch is split over workgroups as IREE splits its own, so it runs on every thread the
// runtime has). Each row: its max, exp(x - max) and their sum, then a multiply by 1/sum; BLOCK
// values at a time in clang's vector extension (blocks.h), so one source vectorises for AVX-512,
// AVX2, NEON or plain scalar code. Each tensor arrives as a flat memref (base, data, offset, size,
// stride): `iree-matrix kernel ir` prints the prototype.
#include "blocks.h"

static void softmax_row(const float *x, float *y, size_t n) {
  vblock top = x[0];
  size_t i = 0;
  for (; i + BLOCK <= n; i += BLOCK) {
    vblock v = LOAD(x + i);
    top = SELECT(v > top, v, top);
  }
  float m = x[0];
  for (int lane = 0; lane < BLOCK; ++lane) m = top[lane] > m ? top[lane] : m;
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  vblock sum = 0.0f;
  float total = 0.0f;
  for (i = 0; i + BLOCK <= n; i += BLOCK) {
    vblock v = LOAD(x + i) - m;
    vexp(&v);
    STORE(y + i, v);
    sum += v;
  }
  if (i < n) {  // the tail as one block; only its lanes in the row are kept and summed
    vblock v = 0.0f;
    for (size_t j = i; j < n; ++j) v[j - i] = x[j] - m;
    vexp(&v);
    for (size_t j = i; j < n; ++j) total += (y[j] = v[j - i]);
  }
  for (int lane = 0; lane < BLOCK; ++lane) total += sum[lane];
  const float inv = 1.0f / total;  // total >= 1: the max's own exp(0)
  for (i = 0; i + BLOCK <= n; i += BLOCK) STORE(y + i, LOAD(y + i) * inv);
  for (; i < n; ++i) y[i] *= inv;
}

__attribute__((visibility("protected"))) void softmax_last(
    const float *in_base, const float *in, size_t in_offset, size_t in_size, size_t in_stride,
    float *out_base, float *out, size_t out_offset, size_t out_size, size_t out_stride, size_t n,
    size_t wg, size_t wgs) {
  (void)in_base, (void)in_size, (void)in_stride, (void)out_base, (void)out_stride;
  if (n == 0 || wgs == 0) return;
  size_t begin, end;
  share((size_t)((double)out_size / (double)n), wg, wgs, &begin, &end);  // rows: exact in a double
  for (size_t row = begin; row < end; ++row)
    softmax_row(in + in_offset + row * n, out + out_offset + row * n, n);
}
