// MobileNetV2's 1x1 convolutions (a matrix product: pixels x input channels times input channels x
// output channels), as the generated spec hands them over (kernel.toml): NHWC tensors, the filter in
// IREE's HWCF layout ([1][1][cin][cout]), a BatchNorm's running_mean, 1/sqrt(var + eps), weight and
// bias folded here into a per-channel scale and shift. (The stem: torch_bn_relu6.c.)
// The product: 6 pixels x 16 output channels held in twelve 8-lane clang vector-extension values (AVX2's
// registers), one filter row and six pixels' input channel read per step; input channels in blocks of
// KC so the filter's block stays in the L1 cache across a block of MC pixels.
#include <stddef.h>

typedef float v8 __attribute__((ext_vector_type(8), aligned(4)));
#define LD(p) (*(const v8 *)(p))
#define ST(p, v) (*(v8 *)(p) = (v))
#define MR 6
#define KC 256
#define MC 72
#define INLINE static inline __attribute__((always_inline))
#define MEMREF(name) \
  const float *name##_base, const float *name, size_t name##_offset, size_t name##_size, size_t name##_stride
#define MEMREF_OUT(name) float *name##_base, float *name, size_t name##_offset, size_t name##_size, size_t name##_stride

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
  float scale[cout], shift[cout];  // on the worker's stack (kernel.toml's run_flags)
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
