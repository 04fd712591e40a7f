// MobileNetV2's 1x1 convolutions (a matrix product: pixels x input channels times input channels x
// output channels), as the generated spec hands them over (kernel.toml): NHWC tensors, the filter in
// IREE's HWCF layout ([1][1][cin][cout]), a BatchNorm's running_mean, 1/sqrt(var + eps), weight and
// bias folded here into a per-channel scale and shift. (The stem: torch_bn_relu6.c.)
// The product, two forms (the one for the target's instruction set is compiled):
// - AVX-512 (Zen 4, Intel): 12 pixels x 32 output channels held in 24 of the 32 16-lane registers, two
//   filter loads and twelve broadcasts per input channel, the filter's rows prefetched; channel tails
//   (24 = 16 + 8 lanes, 144 = 4 x 32 + 16) by narrower or masked vectors, pixel tails by tiles of even
//   heights. On Zen 4 the AVX2 form below (12 of the 32 registers, the filter row reloaded every six
//   pixels) lost to IREE's AVX-512 matmuls in the model; this one runs MobileNetV2's 1x1 layers in
//   0.78x its time on one thread (check_host.c's `model`: 5.7 against 7.3 ms; `bench`, each layer
//   hot: 101-116 GFLOP/s against 75-98).
// - elsewhere (AVX2, NEON, armv6, scalar): 6 pixels x 16 output channels held in twelve 8-lane clang
//   vector-extension values (AVX2's registers), one filter row and six pixels' input channel read per
//   step.
// Both: input channels in blocks of KC so the filter's block stays in the L1 or L2 cache across a
// block of MC pixels.
#include <stddef.h>
#define KC 256
#define MC 72
#define INLINE static inline __attribute__((always_inline))
#define MEMREF(name) \
  const float *name##_base, const float *name, size_t name##_offset, size_t name##_size, size_t name##_stride
#define MEMREF_OUT(name) float *name##_base, float *name, size_t name##_offset, size_t name##_size, size_t name##_stride

#if defined(__AVX512F__)
#include <immintrin.h>

#define MR 12
#define NR 32
#define PF 16

// out[i][0 .. nc) (+)= a[i][0 .. kc) . b[0 .. kc)[0 .. nc) for rows i < mr, where nc is 16 nv with the
// last vector's lanes those of `mk`, or 24 for nv = 0 (16 lanes and 8: an 8-lane FMA takes half a
// 16-lane one's time on Zen 4); after the last block of input channels, the epilogue: x * scale + shift
// clamped to [0, 6] where `scale` is given. The filter's rows are prefetched PF ahead, this block's 32
// channels and the next block's: a layer's filter comes from the L3 cache or memory, a row of 32
// channels every cout floats, a new page every few rows (no hardware prefetcher crosses a page); the
// 7x7 layers (0.4-1.6 MB filters) took 1.6x their hot time in the model's order without it, 1.34x with
// this block's rows alone, 1.14x with the next block's too (one Zen 4 thread, medians of 5 runs).
INLINE void tile(const float *restrict a, size_t lda, const float *restrict b, size_t ldb, int kc,
                 float *restrict out, size_t ldo, const int mr, const int nv, __mmask16 mk, const float *scale,
                 const float *shift, int first, int last) {
  __m512 acc[MR][2];
  __m256 acch[MR];
#pragma unroll
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps(), acch[i] = _mm256_setzero_ps();
  for (int k = 0; k < kc; ++k) {
    const float *bk = b + k * ldb;
    _mm_prefetch((const char *)(bk + PF * ldb), _MM_HINT_T0);
    if (nv != 1) _mm_prefetch((const char *)(bk + PF * ldb + 16), _MM_HINT_T0);
    _mm_prefetch((const char *)(bk + PF * ldb + 32), _MM_HINT_T0);  // the next block of channels'
    _mm_prefetch((const char *)(bk + PF * ldb + 48), _MM_HINT_T0);
    __m512 b0 = nv == 1 ? _mm512_maskz_loadu_ps(mk, bk) : _mm512_loadu_ps(bk), b1 = _mm512_setzero_ps();
    __m256 bh = _mm256_setzero_ps();
    if (nv == 2) b1 = _mm512_maskz_loadu_ps(mk, bk + 16);
    if (nv == 0) bh = _mm256_loadu_ps(bk + 16);
#pragma unroll
    for (int i = 0; i < MR; ++i)
      if (i < mr) {
        float x = a[i * lda + k];
        acc[i][0] = _mm512_fmadd_ps(_mm512_set1_ps(x), b0, acc[i][0]);
        if (nv == 2) acc[i][1] = _mm512_fmadd_ps(_mm512_set1_ps(x), b1, acc[i][1]);
        if (nv == 0) acch[i] = _mm256_fmadd_ps(_mm256_set1_ps(x), bh, acch[i]);
      }
  }
  __m512 zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6.0f);
#pragma unroll
  for (int i = 0; i < mr; ++i) {
    float *o = out + i * ldo;
    for (int j = 0; j < (nv == 2 ? 2 : 1); ++j) {
      __mmask16 m = j == 0 && nv != 1 ? (__mmask16)0xffff : mk;
      __m512 r = acc[i][j];
      if (!first) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(m, o + 16 * j));
      if (last && scale) {
        r = _mm512_fmadd_ps(r, _mm512_maskz_loadu_ps(m, scale + 16 * j), _mm512_maskz_loadu_ps(m, shift + 16 * j));
        r = _mm512_min_ps(_mm512_max_ps(r, zero), six);
      }
      _mm512_mask_storeu_ps(o + 16 * j, m, r);
    }
    if (nv == 0) {
      __m256 r = acch[i];
      if (!first) r = _mm256_add_ps(r, _mm256_loadu_ps(o + 16));
      if (last && scale) {
        r = _mm256_fmadd_ps(r, _mm256_loadu_ps(scale + 16), _mm256_loadu_ps(shift + 16));
        r = _mm256_min_ps(_mm256_max_ps(r, _mm256_setzero_ps()), _mm256_set1_ps(6.0f));
      }
      _mm256_storeu_ps(o + 16, r);
    }
  }
}

// Rows m0 .. m1 of the product for the output channels n .. n + nc (nv and mk as tile's), input
// channels k0 .. k0 + kc: as few tiles as MR rows allow, of even heights (a constant each, so that its
// accumulators stay in registers): the 7x7 layers' 49 pixels as 10, 10, 10, 10 and 9 rows, not four
// tiles of 12 and a row alone.
INLINE void rows(const float *a, const float *b, float *out, size_t n_all, size_t k_all, size_t m0, size_t m1,
                 size_t n, int kc, size_t k0, const int nv, __mmask16 mk, const float *scale,
                 const float *shift) {
  int first = k0 == 0, last = k0 + (size_t)kc >= k_all;
  const float *sc = scale ? scale + n : 0, *sh = shift ? shift + n : 0;
  size_t tiles = (m1 - m0 + MR - 1) / MR;
#define TILE(r)                                                                                                   \
  tile(a + m * k_all + k0, k_all, b + k0 * n_all + n, n_all, kc, out + m * n_all + n, n_all, r, nv, mk, sc, sh, \
       first, last)
  for (size_t t = 0, m = m0; t < tiles; ++t) {
    size_t e = m0 + (m1 - m0) * (t + 1) / tiles;
    switch (e - m) {
      case 1: TILE(1); break;
      case 2: TILE(2); break;
      case 3: TILE(3); break;
      case 4: TILE(4); break;
      case 5: TILE(5); break;
      case 6: TILE(6); break;
      case 7: TILE(7); break;
      case 8: TILE(8); break;
      case 9: TILE(9); break;
      case 10: TILE(10); break;
      case 11: TILE(11); break;
      default: TILE(MR); break;
    }
    m = e;
  }
#undef TILE
}

// out[m0 .. m1)[n0 .. n1) of out[M][N] = a[M][K] . b[K][N], the epilogue after it where `scale` is given.
static void product(const float *a, const float *b, float *out, size_t n_all, size_t k_all, size_t m0, size_t m1,
                    size_t n0, size_t n1, const float *scale, const float *shift) {
  for (size_t mb = m0; mb < m1; mb += MC) {
    size_t me = mb + MC < m1 ? mb + MC : m1;
    for (size_t n = n0; n < n1; n += NR) {
      size_t nc = n1 - n;
      for (size_t k0 = 0; k0 < k_all; k0 += KC) {
        int kc = k_all - k0 < KC ? (int)(k_all - k0) : KC;
        if (nc >= NR)
          rows(a, b, out, n_all, k_all, mb, me, n, kc, k0, 2, 0xffff, scale, shift);
        else if (nc == 24)
          rows(a, b, out, n_all, k_all, mb, me, n, kc, k0, 0, 0xffff, scale, shift);
        else if (nc > 16)
          rows(a, b, out, n_all, k_all, mb, me, n, kc, k0, 2, (__mmask16)((1u << (nc - 16)) - 1), scale, shift);
        else
          rows(a, b, out, n_all, k_all, mb, me, n, kc, k0, 1, (__mmask16)((1u << nc) - 1), scale, shift);
      }
    }
  }
}

// This workgroup's share of the product: the spec runs the call on one workgroup per output row. The
// product is cut into pieces, by pixels (four tiles or more each) and, where that leaves workgroups
// over, by blocks of NR output channels too (the 7x7 and 14x14 layers), at most one piece a workgroup;
// piece p goes to workgroup p * wgs / pieces, since the runtime hands a worker thread a run of
// consecutive workgroups (work kept to the first few ran on one thread of two).
static void share(const float *a, const float *b, float *out, size_t m_all, size_t n_all, size_t k_all,
                  const float *scale, const float *shift, size_t wg, size_t wgs) {
  size_t tm = (m_all + MR - 1) / MR, tn = (n_all + NR - 1) / NR;
  size_t pm = tm / 4 < wgs ? tm / 4 : wgs;
  if (pm == 0) pm = 1;
  size_t pn = wgs / pm < tn ? wgs / pm : tn;
  if (pn == 0) pn = 1;
  size_t pieces = pm * pn, p = (wg * pieces + wgs - 1) / wgs;  // the piece this workgroup holds, if any
  if (p >= pieces || p * wgs / pieces != wg) return;
  size_t pi = p / pn, pj = p % pn;
  size_t m0 = tm * pi / pm * MR, m1 = tm * (pi + 1) / pm * MR, n0 = tn * pj / pn * NR, n1 = tn * (pj + 1) / pn * NR;
  product(a, b, out, n_all, k_all, m0, m1 < m_all ? m1 : m_all, n0, n1 < n_all ? n1 : n_all, scale, shift);
}

#else  // AVX2, NEON, armv6: 8-lane vectors
typedef float v8 __attribute__((ext_vector_type(8), aligned(4)));
#define LD(p) (*(const v8 *)(p))
#define ST(p, v) (*(v8 *)(p) = (v))
#define MR 6

// out[i][0 .. 8 nv) (+)= a[i][0 .. kc) . b[0 .. kc)[0 .. 8 nv) for rows i < mr; after the last block of
// input channels, the epilogue: x * scale + shift clamped to [0, 6] where `scale` is given.
INLINE void tile(const float *restrict a, size_t lda, const float *restrict b, size_t ldb, int kc,
                 float *restrict out, size_t ldo, const int mr, const int nv, const float *scale,
                 const float *shift, int first, int last) {
  v8 acc[MR][2];
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = (v8)0.0f;
  for (int k = 0; k < kc; ++k) {
    v8 b0 = LD(b + k * ldb), b1 = nv > 1 ? LD(b + k * ldb + 8) : (v8)0.0f;
    for (int i = 0; i < MR; ++i)
      if (i < mr) {
        float x = a[i * lda + k];
        acc[i][0] += x * b0;
        if (nv > 1) acc[i][1] += x * b1;
      }
  }
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < nv; ++j) {
      v8 r = acc[i][j];
      if (!first) r += LD(out + i * ldo + 8 * j);
      if (last && scale) {
        r = r * LD(scale + 8 * j) + LD(shift + 8 * j);
        r = __builtin_elementwise_min(__builtin_elementwise_max(r, (v8)0.0f), (v8)6.0f);
      }
      ST(out + i * ldo + 8 * j, r);
    }
}

INLINE void rows(const float *a, const float *b, float *out, size_t n_all, size_t k_all, size_t m0, size_t m1,
                 size_t n, int kc, size_t k0, const int nv, const float *scale, const float *shift) {
  int first = k0 == 0, last = k0 + (size_t)kc >= k_all;
  const float *sc = scale ? scale + n : 0, *sh = shift ? shift + n : 0;
  size_t m = m0;
  for (; m + MR <= m1; m += MR)
    tile(a + m * k_all + k0, k_all, b + k0 * n_all + n, n_all, kc, out + m * n_all + n, n_all, MR, nv, sc, sh,
         first, last);
  if (m < m1)
    tile(a + m * k_all + k0, k_all, b + k0 * n_all + n, n_all, kc, out + m * n_all + n, n_all, (int)(m1 - m), nv,
         sc, sh, first, last);
}

// out[m0 .. m1)[n0 .. n1) of out[M][N] = a[M][K] . b[K][N], the epilogue after it where `scale` is given.
static void product(const float *a, const float *b, float *out, size_t n_all, size_t k_all, size_t m0, size_t m1,
                    size_t n0, size_t n1, const float *scale, const float *shift) {
  for (size_t mb = m0; mb < m1; mb += MC) {
    size_t me = mb + MC < m1 ? mb + MC : m1;
    for (size_t n = n0; n < n1;) {
      for (size_t k0 = 0; k0 < k_all; k0 += KC) {
        int kc = k_all - k0 < KC ? (int)(k_all - k0) : KC;
        if (n + 16 <= n1)
          rows(a, b, out, n_all, k_all, mb, me, n, kc, k0, 2, scale, shift);
        else if (n + 8 <= n1)
          rows(a, b, out, n_all, k_all, mb, me, n, kc, k0, 1, scale, shift);
      }
      if (n + 16 <= n1) {
        n += 16;
      } else if (n + 8 <= n1) {
        n += 8;
      } else {  // fewer than 8 output channels left: one at a time
        for (size_t m = mb; m < me; ++m) {
          float acc = 0.0f;
          for (size_t k = 0; k < k_all; ++k) acc += a[m * k_all + k] * b[k * n_all + n];
          if (scale) {
            acc = acc * scale[n] + shift[n];
            acc = acc > 0.0f ? (acc < 6.0f ? acc : 6.0f) : 0.0f;
          }
          out[m * n_all + n] = acc;
        }
        ++n;
      }
    }
  }
}

// This workgroup's share of the product: the spec runs the call on one workgroup per output row. By
// pixels where each workgroup gets four tiles or more, else by blocks of 16 output channels (the 7x7
// and 14x14 layers), so that no workgroup reads the whole filter for a few pixels. Every workgroup
// takes its share, none is left idle: the runtime hands a worker thread a run of consecutive
// workgroups, and work kept to the first few ran on one thread of two (13.3 ms at 2 threads against
// 11.8 at one).
static void share(const float *a, const float *b, float *out, size_t m_all, size_t n_all, size_t k_all,
                  const float *scale, const float *shift, size_t wg, size_t wgs) {
  if (m_all >= wgs * 4 * MR) {
    size_t tiles = (m_all + MR - 1) / MR, t0 = tiles * wg / wgs, t1 = tiles * (wg + 1) / wgs;
    size_t m0 = t0 * MR, m1 = t1 * MR < m_all ? t1 * MR : m_all;
    product(a, b, out, n_all, k_all, m0, m1, 0, n_all, scale, shift);
  } else {
    size_t blocks = (n_all + 15) / 16, b0 = blocks * wg / wgs, b1 = blocks * (wg + 1) / wgs;
    size_t n0 = b0 * 16, n1 = b1 * 16 < n_all ? b1 * 16 : n_all;
    if (n0 < n1) product(a, b, out, n_all, k_all, 0, m_all, n0, n1, scale, shift);
  }
}

#endif

// A BatchNorm's per-channel scale and shift: weight / sqrt(var + eps) and bias - mean * that.
INLINE void fold(size_t c, const float *mean, const float *invstd, const float *weight, const float *bias,
                 float *scale, float *shift) {
  for (size_t i = 0; i < c; ++i) {
    scale[i] = invstd[i] * weight[i];
    shift[i] = bias[i] - mean[i] * scale[i];
  }
}

// Conv2d(cin, cout, 1, bias=False) + BatchNorm2d + ReLU6 (the expansions and the last block):
// in [h][w][cin], filter [cin][cout], out [h][w][cout].
__attribute__((visibility("protected"))) void conv1x1_bn_relu6_torch(
    MEMREF(in), MEMREF(filter), MEMREF(mean), MEMREF(invstd), MEMREF(weight), MEMREF(bias), MEMREF_OUT(out),
    size_t h, size_t w, size_t cin, size_t cout, size_t wg, size_t wgs) {
  (void)in_base, (void)in_size, (void)in_stride, (void)filter_base, (void)filter_size, (void)filter_stride,
      (void)mean_base, (void)mean_size, (void)mean_stride, (void)invstd_base, (void)invstd_size,
      (void)invstd_stride, (void)weight_base, (void)weight_size, (void)weight_stride, (void)bias_base,
      (void)bias_size, (void)bias_stride, (void)out_base, (void)out_size, (void)out_stride;
  // on the worker's stack (kernel.toml's run_flags), 64-byte aligned: a 16-channel load of either at a
  // float's alignment spans two cache lines
  float scale[cout] __attribute__((aligned(64))), shift[cout] __attribute__((aligned(64)));
  fold(cout, mean + mean_offset, invstd + invstd_offset, weight + weight_offset, bias + bias_offset, scale, shift);
  share(in + in_offset, filter + filter_offset, out + out_offset, h * w, cout, cin, scale, shift, wg, wgs);
}

// Conv2d(cin, cout, 1, bias=False) alone (the projections; their BatchNorm and the residual's add
// stay IREE's, one elementwise dispatch).
__attribute__((visibility("protected"))) void conv1x1_torch(MEMREF(in), MEMREF(filter), MEMREF_OUT(out), size_t h,
                                                            size_t w, size_t cin, size_t cout, size_t wg,
                                                            size_t wgs) {
  (void)in_base, (void)in_size, (void)in_stride, (void)filter_base, (void)filter_size, (void)filter_stride,
      (void)out_base, (void)out_size, (void)out_stride;
  share(in + in_offset, filter + filter_offset, out + out_offset, h * w, cout, cin, 0, 0, wg, wgs);
}
