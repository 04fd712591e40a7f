// Conv1d with a window of 3, a padding of 1 and stride 1 or 2, f32, NCW (torch's nn.Conv1d layout),
// bias added: Whisper's two encoder stems. y[co][t] = b[co] + sum_ci,k w[co][ci][k] x[ci][s t + k - 1].
// A matrix product, output channels x steps = w [cout][3 cin] times the taps [3 cin][steps]: per
// chunk of TT steps, the three taps of every input channel are packed (zero where the window reaches
// the padding, each stride alike) and multiplied by tile.h's register tile (AVX-512: 12 channels x
// 32 steps in 24 registers). Before it, 8 channels x 32 steps held in 16 vectors fed by unaligned
// loads (stride 2 by shuffles) and the steps at the edges computed one at a time: 72 and 49 GFLOP/s
// for the two stems on one Zen 4 thread (check_host.c's `bench`), the edges a fifth of the time.
// The packed taps (3 cin TT floats, 144 KB for 384 channels) are on the stack: kernel.toml's
// run_flags give IREE's workers room.
#include "tile.h"  // tile, MR, NR

#define TT 32  // steps a chunk (a multiple of NR; 64 and 128 were no faster)

static void conv1d_k3_ncw(const float *x, const float *w, const float *b, float *y, size_t cin, size_t tin,
                          size_t cout, size_t tout, size_t s) {
  size_t kk = 3 * cin;
  float p[kk * TT], part[MR * TT], pad[MR * kk];
  for (size_t t0 = 0; t0 < tout; t0 += TT) {
    size_t n = tout - t0 < TT ? tout - t0 : TT;
    for (size_t ci = 0; ci < cin; ++ci)
      for (size_t k = 0; k < 3; ++k) {
        const float *xr = x + ci * tin;
        float *pr = p + (ci * 3 + k) * TT;
        for (size_t j = 0; j < TT; ++j) {
          size_t at = s * (t0 + j) + k;  // x's index + 1: the padding at 0 and tin + 1
          pr[j] = j < n && at >= 1 && at <= tin ? xr[at - 1] : 0.0f;
        }
      }
    for (size_t co = 0; co < cout; co += MR) {
      size_t m = cout - co < MR ? cout - co : MR;
      const float *a = w + co * kk;
      if (m < MR) {  // the last channels: zero rows after them
        for (size_t i = 0; i < MR * kk; ++i) pad[i] = i < m * kk ? a[i] : 0.0f;
        a = pad;
      }
      for (size_t j = 0; j < TT; j += NR) tile(a, kk, p + j, TT, kk, part + j, TT, 0, 0);
      for (size_t i = 0; i < m; ++i)
        for (size_t j = 0; j < n; ++j) y[(co + i) * tout + t0 + j] = part[i * TT + j] + b[co + i];
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
