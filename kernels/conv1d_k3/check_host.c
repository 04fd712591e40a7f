// Host check of conv1d_k3.c against a plain double-precision Conv1d (kernel 3, padding 1): Whisper
// tiny's two stems (80 -> 384 channels over 3000 steps, stride 1; 384 -> 384, stride 2) and short
// odd ones, outside IREE; with `bench`, the two stems timed on this thread (CPU time, best of 5,
// GFLOP/s). Build the kernel for the host as the kernel stage does (tests/unit/test_library_kernels.py),
// then this file, and run:
//   zig cc -target x86_64-freestanding-none -mcpu=native -ffreestanding -O3 -std=c11 -c conv1d_k3.c -o /tmp/c.o
//   zig cc -O1 check_host.c /tmp/c.o -lm -o /tmp/check && /tmp/check [bench]
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define M(p) p, p, (size_t)0, (size_t)0, (size_t)1
#define R const float *, const float *, size_t, size_t, size_t  // a memref read
void conv1d_k3_torch(R, R, R, float *, float *, size_t, size_t, size_t, size_t, size_t, size_t, size_t);
static float rnd(void) { return (float)((double)rand() / RAND_MAX * 2 - 1); }
static double cpu(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(int argc, char **argv) {
  int bench = argc > 1, bad = 0;
  // cin, tin, cout, stride
  size_t shapes[][4] = {{80, 3000, 384, 1}, {384, 3000, 384, 2}, {5, 70, 11, 1}, {7, 67, 9, 2}, {3, 5, 8, 2}, {2, 1, 3, 1}};
  for (int n = 0; n < (bench ? 2 : 6); ++n) {
    size_t ci = shapes[n][0], tin = shapes[n][1], co = shapes[n][2], s = shapes[n][3], tout = (tin - 1) / s + 1;
    float *x = malloc(4 * ci * tin), *w = malloc(4 * co * ci * 3), *b = malloc(4 * co * tout), *y = malloc(4 * co * tout);
    for (size_t i = 0; i < ci * tin; ++i) x[i] = rnd();
    for (size_t i = 0; i < co * ci * 3; ++i) w[i] = rnd() * 0.1f;
    for (size_t c = 0; c < co; ++c)
      for (size_t t = 0; t < tout; ++t) b[c * tout + t] = (float)c * 0.01f;  // the bias, broadcast
    conv1d_k3_torch(M(x), M(w), M(b), M(y), ci, tin, co, tout);
    if (bench) {
      double best = 1e9, flop = 6.0 * ci * co * tout;
      for (int r = 0; r < 5; ++r) {
        double t0 = cpu();
        conv1d_k3_torch(M(x), M(w), M(b), M(y), ci, tin, co, tout);
        if (cpu() - t0 < best) best = cpu() - t0;
      }
      printf("conv1d %zu -> %zu over %zu steps, stride %zu: %.2f ms, %.1f GFLOP/s (one thread's CPU time, best of 5)\n",
             ci, co, tin, s, best * 1e3, flop / best * 1e-9);
      continue;
    }
    double err = 0;
    for (size_t c = 0; c < co; ++c)
      for (size_t t = 0; t < tout; ++t) {
        double acc = b[c * tout + t];
        for (size_t i = 0; i < ci; ++i)
          for (size_t k = 0; k < 3; ++k) {
            long at = (long)(s * t + k) - 1;
            if (at >= 0 && at < (long)tin) acc += (double)w[(c * ci + i) * 3 + k] * x[i * tin + at];
          }
        double e = fabs(acc - y[c * tout + t]);
        if (!(e <= err)) err = e;  // NaN too
      }
    bad |= !(err < 1e-4);
    printf("%zu -> %zu over %zu, stride %zu: max abs error %g\n", ci, co, tin, s, err);
    free(x), free(w), free(b), free(y);
  }
  if (!bench) printf(bad ? "FAILED\n" : "ok\n");
  return bad;
}
