// What kernels/softmax and kernels/gelu_tanh (a link there) share: BLOCK floats as one value of
// clang's vector extension (one AVX-512 register, two AVX2 ones, four NEON ones, or sixteen scalars
// on a CPU without SIMD such as armv6, for whatever -march/-mcpu the target gives), exp of such a
// value, and a workgroup's share of a dispatch. Freestanding: no libm, no libgcc (IREE's embedded
// linker has neither: an integer division is an undefined __aeabi_uidiv on armv6).
#ifndef IREE_MATRIX_BLOCKS_H
#define IREE_MATRIX_BLOCKS_H
#include <stddef.h>

#define BLOCK 16
typedef float vblock __attribute__((ext_vector_type(BLOCK), aligned(4)));
typedef int vint __attribute__((ext_vector_type(BLOCK), aligned(4)));

// Macros, not functions taking vectors: a vector passed by value draws -Wpsabi without AVX-512.
#define LOAD(p) (*(const vblock *)(p))
#define STORE(p, v) (*(vblock *)(p) = (v))
// Lane by lane `mask ? a : b` (mask lanes all ones or zero: a comparison's), as bits.
#define SELECT(mask, a, b) ((vblock)(((mask) & (vint)(a)) | (~(mask) & (vint)(b))))

// exp of each lane: x = k ln 2 + r, |r| <= ln 2 / 2, exp(r) by a degree-6 polynomial (relative
// error < 2e-7 over the range) and 2^k made in the exponent's bits. Inputs clamped to [-87, 88] (exp(-87) is still a normal float; NaN stays NaN
// through the polynomial). Round to nearest by adding and taking away 1.5 * 2^23, exact for
// |x / ln 2| < 2^22 (no rounding builtin: any clang, any target).
static inline __attribute__((always_inline)) void vexp(vblock *v) {
  const vblock lo = -87.0f, hi = 88.0f, magic = 12582912.0f;
  vblock x = *v;
  x = SELECT(x < lo, lo, x);
  x = SELECT(x > hi, hi, x);
  vblock k = (x * 1.44269504f + magic) - magic;
  vblock r = (x - k * 0.693145752f) - k * 1.42860677e-6f;  // ln 2 in two parts: r exact enough
  vblock p = 0.00138873165f;
  p = p * r + 0.00833336823f;
  p = p * r + 0.0416666418f;
  p = p * r + 0.166666672f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  vint bits = (__builtin_convertvector(k, vint) + 127) << 23;  // 2^k, k in [-126, 127]
  *v = p * (vblock)bits;
}

// Workgroup `wg` of `wgs`'s share [*begin, *end) of `total` items, contiguous, as IREE splits its own
// dispatches. In doubles (exact below 2^53; the same formula gives one's end and the next's begin,
// and the last's end is `total`): no integer division, which armv6 lacks.
static inline __attribute__((always_inline)) void share(size_t total, size_t wg, size_t wgs, size_t *begin,
                                                        size_t *end) {
  *begin = (size_t)((double)total * (double)wg / (double)wgs);
  *end = (size_t)((double)total * (double)(wg + 1) / (double)wgs);
}

#endif
