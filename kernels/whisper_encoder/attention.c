// Whisper's encoder self-attention, the whole block (kernel.toml's `encoder.blocks.*.attn`: the
// module and its query/key/value/out Linears), as the generated spec hands it over: x [1][T][D],
// each Linear's weight transposed ([in][out], IREE folds the transpose) and its bias; out [1][T][D].
//   q = x Wq^T + bq, k = x Wk^T, v = x Wv^T + bv; per head (D / 64 of them, 64 wide)
//   a = softmax(q k^T / 8) v; out = a Wo^T + bo
// Flash-attention order: head by head, its K (transposed) and V on the stack, then per block of MR
// query rows the block's q, its MR x T scores, their softmax and the product with V, all in cache:
// the T x T scores (6 x 1500 x 1500 floats, 54 MB) are never written out, where IREE 3.9.0-3.13.0
// write them, pack them for data tiling and read them again. The heads' results gather in `out`,
// whose rows are then multiplied by Wo^T in place, a block of rows at a time.
// One call does it all (no workgroup split): every query row reads every row's k and v, and a
// dispatch's workgroups have no barrier between the projections and the attention; a split
// would compute K and V once a workgroup. Its scratch (T x 64 of K^T and of V, an MR x T block of
// scores: 0.85 MB at T = 1500) is on the stack: kernel.toml's run_flags give IREE's workers 2 MB.
// Every product is tile.h's register tile (no libm, no integer division but by powers of two:
// armv6 has neither).
#include "blocks.h"  // vexp (16 lanes), BLOCK
#include "tile.h"    // tile, MR, NR

#define HD 64  // a head's width (Whisper: 64 in every size)
#define MEMREF(name) \
  const float *name##_base, const float *name, size_t name##_offset, size_t name##_size, size_t name##_stride

// out[MR][n] = a[MR][k] b[k][n] (+ bias, * rs) for n a multiple of NR.
static void rows(const float *a, size_t lda, const float *b, size_t ldb, size_t k, float *out, size_t ldo, size_t n,
                 const float *bias, const float *rs) {
  for (size_t j = 0; j < n; j += NR) tile(a, lda, b + j, ldb, k, out + j, ldo, bias ? bias + j : 0, rs);
}

// `m` <= MR rows of a (`lda` apart, `k` long) as MR rows at `pad` (MR x k), zeros after the m-th: a
// block at the end of T shorter than MR.
static const float *padded(const float *a, size_t lda, size_t m, size_t k, float *pad) {
  if (m == MR) return a;
  for (size_t i = 0; i < MR; ++i)
    for (size_t c = 0; c < k; ++c) pad[i * k + c] = i < m ? a[i * lda + c] : 0.0f;
  return pad;
}

// One row's softmax numerator in place over its first t scores (of np, a multiple of BLOCK, the rest
// made zero); returns 1 / the row's sum.
static float exp_row(float *s, size_t t, size_t np) {
  for (size_t c = t; c < np; ++c) s[c] = s[0];  // the padding: no new max
  vblock top = LOAD(s);
  for (size_t c = BLOCK; c < np; c += BLOCK) {
    vblock v = LOAD(s + c);
    top = SELECT(v > top, v, top);
  }
  float m = top[0];
  for (int l = 1; l < BLOCK; ++l) m = top[l] > m ? top[l] : m;
  vblock sum = 0.0f;
  for (size_t c = 0; c < np; c += BLOCK) {
    vblock v = LOAD(s + c) - m;
    vexp(&v);
    STORE(s + c, v);
    sum += v;
  }
  float total = 0.0f;
  for (size_t c = t; c < np; ++c) total -= s[c], s[c] = 0.0f;  // take the padding's back out
  for (int l = 0; l < BLOCK; ++l) total += sum[l];
  return 1.0f / total;  // >= 1: the max's own exp(0)
}

// The block as described above; x, w* and b* flat (row-major), t rows of d = heads x 64.
static void attention(const float *x, const float *wq, const float *bq, const float *wk, const float *wv,
                      const float *bv, const float *wo, const float *bo, float *out, size_t t, size_t d) {
  size_t np = (t + NR - 1) / NR * NR;  // K^T's and a score row's length, whole tiles (NR: a power of 2)
  float kt[HD * np], v[t * HD], s[MR * np], q[MR * HD], tmp[MR * (d > HD ? d : HD)], pad[MR * d], obuf[MR * d];
  float rs[MR], eighth[MR];
  for (int i = 0; i < MR; ++i) eighth[i] = 0.125f;  // 1 / sqrt(64), exact: folded into q
  for (size_t h = 0; h < d; h += HD) {
    // this head's K^T (kt[c][r]; zero past T) and V (v[r][c])
    for (size_t r = 0; r < t; r += MR) {
      size_t m = t - r < MR ? t - r : MR;
      const float *a = padded(x + r * d, d, m, d, pad);
      rows(a, d, wk + h, d, d, tmp, HD, HD, 0, 0);
      for (size_t i = 0; i < m; ++i)
        for (size_t c = 0; c < HD; ++c) kt[c * np + r + i] = tmp[i * HD + c];
      rows(a, d, wv + h, d, d, tmp, HD, HD, bv + h, 0);
      for (size_t i = 0; i < m * HD; ++i) v[r * HD + i] = tmp[i];
    }
    for (size_t c = 0; c < HD; ++c)
      for (size_t r = t; r < np; ++r) kt[c * np + r] = 0.0f;
    for (size_t r = 0; r < t; r += MR) {
      size_t m = t - r < MR ? t - r : MR;
      rows(padded(x + r * d, d, m, d, pad), d, wq + h, d, d, q, HD, HD, bq + h, eighth);  // q / 8
      rows(q, HD, kt, np, HD, s, np, np, 0, 0);                                             // scores
      for (int i = 0; i < MR; ++i) rs[i] = exp_row(s + i * np, t, np);
      float *o = m == MR ? out + r * d + h : tmp;  // softmax(scores) v, into the head's columns
      rows(s, np, v, HD, t, o, m == MR ? d : HD, HD, 0, rs);
      for (size_t i = 0; m < MR && i < m; ++i)
        for (size_t c = 0; c < HD; ++c) out[(r + i) * d + h + c] = tmp[i * HD + c];
    }
  }
  // out = a Wo^T + bo, in place: each block of rows copied out first
  for (size_t r = 0; r < t; r += MR) {
    size_t m = t - r < MR ? t - r : MR;
    for (size_t i = 0; i < MR * d; ++i) obuf[i] = i < m * d ? out[r * d + i] : 0.0f;
    rows(obuf, d, wo, d, d, tmp, d, d, bo, 0);
    for (size_t i = 0; i < m * d; ++i) out[r * d + i] = tmp[i];
  }
}

// The spec's call: the query's weight and bias, the key's weight, x, the value's weight and bias,
// the out's weight and bias (the order the spec hands them: `kernel ir` prints it), the output; then
// T and D (x's dimensions 1 and 2).
__attribute__((visibility("protected"))) void whisper_attention(MEMREF(wq), MEMREF(bq), MEMREF(wk), MEMREF(x),
                                                                MEMREF(wv), MEMREF(bv), MEMREF(wo), MEMREF(bo),
                                                                float *out_base, float *out, size_t out_offset,
                                                                size_t out_size, size_t out_stride, size_t t,
                                                                size_t d) {
  (void)wq_base, (void)wq_size, (void)wq_stride, (void)bq_base, (void)bq_size, (void)bq_stride, (void)wk_base,
      (void)wk_size, (void)wk_stride, (void)x_base, (void)x_size, (void)x_stride, (void)wv_base, (void)wv_size,
      (void)wv_stride, (void)bv_base, (void)bv_size, (void)bv_stride, (void)wo_base, (void)wo_size,
      (void)wo_stride, (void)bo_base, (void)bo_size, (void)bo_stride, (void)out_base, (void)out_size,
      (void)out_stride;
  if (t == 0 || d == 0 || (d & (HD - 1))) return;  // heads of 64 (every Whisper: D 384 to 1280)
  attention(x + x_offset, wq + wq_offset, bq + bq_offset, wk + wk_offset, wv + wv_offset, bv + bv_offset,
            wo + wo_offset, bo + bo_offset, out + out_offset, t, d);
}
