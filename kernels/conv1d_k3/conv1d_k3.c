// Conv1d with a window of 3, a padding of 1 and stride 1 or 2, f32, NCW (torch's nn.Conv1d layout),
// bias added: Whisper's two encoder stems. y[co][t] = b[co] + sum_ci,k w[co][ci][k] x[ci][s t + k - 1].
// Eight output channels by 32 output steps held in sixteen 16-wide vectors (clang's
// ext_vector_type), so each input vector loaded feeds eight FMAs; the few steps at the edges,
// where the window reaches the padding, are computed one at a time.
#include <stddef.h>

typedef float v16 __attribute__((ext_vector_type(16)));

static inline v16 load16(const float *p) {
  v16 v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
static inline void store16(float *p, v16 v) { __builtin_memcpy(p, &v, sizeof v); }
// Stride 2: the window's three taps for 16 steps from 32 + 2 floats at p (x[2 t - 1] on): elements
// 0, 2, 4, ... (tap 0), 1, 3, 5, ... (tap 1) and 2, 4, 6, ... (tap 2).
static inline void taps2(const float *p, v16 out[3]) {
  v16 a = load16(p), b = load16(p + 16), c = load16(p + 2), d = load16(p + 18);
  out[0] = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  out[1] = __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  out[2] = __builtin_shufflevector(c, d, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
}

static float one(const float *x, const float *w, float b, size_t cin, size_t tin, size_t s, size_t t) {
  float acc = b;
  for (size_t ci = 0; ci < cin; ++ci)
    for (size_t k = 0; k < 3; ++k) {
      ptrdiff_t i = (ptrdiff_t)(s * t + k) - 1;
      if (i >= 0 && (size_t)i < tin) acc += w[ci * 3 + k] * x[ci * tin + (size_t)i];
    }
  return acc;
}

#define CO 8
#define TB 32

static void conv1d_k3_ncw(const float *x, const float *w, const float *b, float *y, size_t cin, size_t tin, size_t cout,
                   size_t tout, size_t s) {
  // The first step reaches x[-1]; a block starting at t reads up to x[s (t + TB - 1) + 1] (and, for
  // stride 2, the shuffle's load of 32 at s t + 1 reads x[s t + 32]).
  size_t t0 = 1, blocks = 0;
  while (t0 + (blocks + 1) * TB <= tout && s * (t0 + (blocks + 1) * TB - 1) + 1 + (s == 2 ? 1 : 0) < tin) ++blocks;
  size_t t1 = t0 + blocks * TB;
  for (size_t co = 0; co < cout; co += CO) {
    size_t rows = cout - co < CO ? cout - co : CO;
    if (rows == CO) {
      for (size_t t = t0; t < t1; t += TB) {
        v16 acc[CO][2];
        for (size_t r = 0; r < CO; ++r) acc[r][0] = acc[r][1] = b[co + r];
        for (size_t ci = 0; ci < cin; ++ci) {
          const float *xr = x + ci * tin + s * t - 1;
          v16 xv[3][2], lo[3], hi[3];
          if (s == 1) {
            for (size_t k = 0; k < 3; ++k) xv[k][0] = load16(xr + k), xv[k][1] = load16(xr + k + 16);
          } else {
            taps2(xr, lo), taps2(xr + 32, hi);
            for (size_t k = 0; k < 3; ++k) xv[k][0] = lo[k], xv[k][1] = hi[k];
          }
          const float *wr = w + (co * cin + ci) * 3;
          for (size_t r = 0; r < CO; ++r) {
            const float *wk = wr + r * cin * 3;
            for (size_t k = 0; k < 3; ++k) {
              acc[r][0] += wk[k] * xv[k][0];
              acc[r][1] += wk[k] * xv[k][1];
            }
          }
        }
        for (size_t r = 0; r < CO; ++r) {
          store16(y + (co + r) * tout + t, acc[r][0]);
          store16(y + (co + r) * tout + t + 16, acc[r][1]);
        }
      }
    }
    for (size_t r = 0; r < rows; ++r) {
      const float *wr = w + (co + r) * cin * 3;
      float *yr = y + (co + r) * tout;
      for (size_t t = 0; t < tout; ++t)
        if (rows != CO || t < t0 || t >= t1) yr[t] = one(x, wr, b[co + r], cin, tin, s, t);
    }
  }
}

#define MEMREF(name) \
  const float *name##_base, const float *name, size_t name##_offset, size_t name##_size, size_t name##_stride

// The entry the generated spec calls for one torch Conv1d(kernel_size=3, padding=1, stride 1 or 2):
// its ops read the unpadded input [1][cin][tin], the weight [cout][cin][3] and the bias broadcast
// to the output's shape [1][cout][tout] (IREE computes that broadcast from the weights); then the
// output and the sizes (kernel.toml's args). The stride is what the sizes say.
__attribute__((visibility("protected"))) void conv1d_k3_torch(MEMREF(x), MEMREF(w), MEMREF(bias), float *out_base,
                                                             float *out, size_t out_offset, size_t out_size,
                                                             size_t out_stride, size_t cin, size_t tin, size_t cout,
                                                             size_t tout) {
  float b[cout];
  for (size_t co = 0; co < cout; ++co) b[co] = bias[bias_offset + co * tout];
  (void)x_base, (void)x_size, (void)x_stride, (void)w_base, (void)w_size, (void)w_stride, (void)bias_base,
      (void)bias_size, (void)bias_stride, (void)out_base, (void)out_size, (void)out_stride;
  conv1d_k3_ncw(x + x_offset, w + w_offset, b, out + out_offset, cin, tin, cout, tout, tout == tin ? 1 : 2);
}
