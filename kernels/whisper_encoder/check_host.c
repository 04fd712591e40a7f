// Host check of attention.c against a plain double-precision attention block (Whisper tiny's shape,
// T 1500 x D 384, and a short one whose rows end mid-block, T 37 x D 128), outside IREE; with
// `bench`, the whole block timed on this thread (CPU time, best of 5, GFLOP/s). Build the kernel for
// the host as the kernel stage does (tests/unit/test_library_kernels.py), then this file, and run:
//   zig cc -target x86_64-linux-gnu -mcpu=native -ffreestanding -O3 -std=c11 -c attention.c -o /tmp/at.o
//   zig cc -target x86_64-linux-gnu -O1 check_host.c /tmp/at.o conv1d_k3.o softmax.o -lm -o /tmp/check
//   /tmp/check [bench]
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define M(p) p, p, (size_t)0, (size_t)0, (size_t)1
#define R const float *, const float *, size_t, size_t, size_t  // a memref read
void whisper_attention(R, R, R, R, R, R, R, R, float *, float *, size_t, size_t, size_t, size_t, size_t);
static float rnd(void) { return (float)((double)rand() / RAND_MAX * 2 - 1); }
static double cpu(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

// out = (softmax(q k^T / 8) v per head) wo + bo, w* as [in][out], in doubles
static void reference(const float *x, float *const w[4], float *const b[4], double *out, size_t t, size_t d) {
  double *p[3], *a = calloc(t * d, 8), *s = malloc(8 * t);
  for (int j = 0; j < 3; ++j) {
    p[j] = malloc(8 * t * d);
    for (size_t r = 0; r < t; ++r)
      for (size_t c = 0; c < d; ++c) {
        double acc = b[j] ? b[j][c] : 0;
        for (size_t k = 0; k < d; ++k) acc += (double)x[r * d + k] * w[j][k * d + c];
        p[j][r * d + c] = acc;
      }
  }
  for (size_t h = 0; h < d; h += 64)
    for (size_t r = 0; r < t; ++r) {
      double top = -INFINITY, sum = 0;
      for (size_t c = 0; c < t; ++c) {
        double acc = 0;
        for (size_t k = 0; k < 64; ++k) acc += p[0][r * d + h + k] * p[1][c * d + h + k];
        s[c] = acc / 8, top = fmax(top, s[c]);
      }
      for (size_t c = 0; c < t; ++c) sum += (s[c] = exp(s[c] - top));
      for (size_t c = 0; c < t; ++c)
        for (size_t k = 0; k < 64; ++k) a[r * d + h + k] += s[c] / sum * p[2][c * d + h + k];
    }
  for (size_t r = 0; r < t; ++r)
    for (size_t c = 0; c < d; ++c) {
      double acc = b[3][c];
      for (size_t k = 0; k < d; ++k) acc += a[r * d + k] * w[3][k * d + c];
      out[r * d + c] = acc;
    }
  for (int j = 0; j < 3; ++j) free(p[j]);
  free(a), free(s);
}

int main(int argc, char **argv) {
  int bench = argc > 1, bad = 0;
  size_t shapes[][2] = {{1500, 384}, {37, 128}};
  for (int n = bench ? 0 : 0; n < (bench ? 1 : 2); ++n) {
    size_t t = shapes[n][0], d = shapes[n][1];
    float *x = malloc(4 * t * d), *out = malloc(4 * t * d), *w[4], *b[4];
    for (size_t i = 0; i < t * d; ++i) x[i] = rnd();
    for (int j = 0; j < 4; ++j) {
      w[j] = malloc(4 * d * d), b[j] = j == 1 ? 0 : malloc(4 * d);  // the key has no bias
      for (size_t i = 0; i < d * d; ++i) w[j][i] = rnd() * 0.15f;  // scores of a spread of a few units
      for (size_t i = 0; b[j] && i < d; ++i) b[j][i] = rnd() * 0.1f;
    }
    // the spec's order: wq, bq, wk, x, wv, bv, wo, bo, out, T, D
    whisper_attention(M(w[0]), M(b[0]), M(w[1]), M(x), M(w[2]), M(b[2]), M(w[3]), M(b[3]), M(out), t, d);
    if (bench) {
      double best = 1e9, flop = 8.0 * t * d * d + 4.0 * t * t * d;
      for (int r = 0; r < 5; ++r) {
        double t0 = cpu();
        whisper_attention(M(w[0]), M(b[0]), M(w[1]), M(x), M(w[2]), M(b[2]), M(w[3]), M(b[3]), M(out), t, d);
        if (cpu() - t0 < best) best = cpu() - t0;
      }
      printf("attention block T %zu D %zu: %.2f ms, %.1f GFLOP/s (one thread's CPU time, best of 5)\n", t, d,
             best * 1e3, flop / best * 1e-9);
      return 0;
    }
    double *want = malloc(8 * t * d), err = 0;
    reference(x, w, b, want, t, d);
    for (size_t i = 0; i < t * d; ++i) {
      double e = fabs(out[i] - want[i]);
      if (!(e <= err)) err = e;  // NaN too
    }
    bad |= !(err < 1e-4);
    printf("T %zu D %zu: max abs error %g\n", t, d, err);
    free(x), free(out), free(want);
  }
  printf(bad ? "FAILED\n" : "ok\n");
  return bad;
}
