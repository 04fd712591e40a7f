// What conv1d_k3.c and whisper_encoder/attention.c (a link there) share: a register tile of a
// matrix product, MR rows x 2 vectors of VL floats in clang's vector extension (one source for every
// target; the form by the target's macros): AVX-512 12 rows of 16-lane vectors (24 of the 32
// registers: inverted_residual/pointwise.c's tile, ~100 GFLOP/s on one Zen 4 core), AVX2 6 rows of
// 8-lane ones (12 of 16), elsewhere (NEON, armv6, scalar) 4 rows of 8 lanes, which the compiler splits.
#ifndef IREE_MATRIX_TILE_H
#define IREE_MATRIX_TILE_H
#include <stddef.h>

#if defined(__AVX512F__)
#define VL 16
#define MR 12
#elif defined(__AVX2__)
#define VL 8
#define MR 6
#else
#define VL 8
#define MR 4
#endif
#define NR (2 * VL)
typedef float vf __attribute__((ext_vector_type(VL), aligned(4)));
#define LD(p) (*(const vf *)(p))
#define ST(p, v) (*(vf *)(p) = (v))

// out[i][0 .. NR) = (sum_k a[i][k] b[k][0 .. NR) + bias[0 .. NR)) * rs[i] for the MR rows i (no bias
// where `bias` is 0, no scale where `rs` is 0): the accumulators stay in registers over all of k.
static inline __attribute__((always_inline)) void tile(const float *restrict a, size_t lda, const float *restrict b,
                                                       size_t ldb, size_t kc, float *restrict out, size_t ldo,
                                                       const float *bias, const float *rs) {
  vf acc[MR][2];
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = (vf)0.0f;
  for (size_t k = 0; k < kc; ++k) {
    vf b0 = LD(b + k * ldb), b1 = LD(b + k * ldb + VL);
    for (int i = 0; i < MR; ++i) {
      float x = a[i * lda + k];
      acc[i][0] += x * b0;
      acc[i][1] += x * b1;
    }
  }
  vf c0 = bias ? LD(bias) : (vf)0.0f, c1 = bias ? LD(bias + VL) : (vf)0.0f;
  for (int i = 0; i < MR; ++i) {
    float s = rs ? rs[i] : 1.0f;
    ST(out + i * ldo, (acc[i][0] + c0) * s);
    ST(out + i * ldo + VL, (acc[i][1] + c1) * s);
  }
}

#endif
