// Host check of layer_norm.c against a plain double-precision layer norm (row lengths that fill no
// block, one value, wide rows, rows offset far from zero, a constant row; the rows split over 1, 3 and
// 7 workgroups), outside IREE: a wrong kernel shows here, not as a model mismatch. Build the kernel
// for the host, then this file with any C compiler, and run (tests/unit/test_library_kernels.py does):
//   clang -target x86_64-freestanding-none -mcpu=native -ffreestanding -O3 -c layer_norm.c -o /tmp/ln.o
//   clang -O1 check_host.c /tmp/ln.o -lm -o /tmp/check && /tmp/check
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#define M(p, size) p, p, 0, size, 1  // a flat memref: base, data, offset, size, stride
void layer_norm_last(const float *, const float *, size_t, size_t, size_t, const float *, const float *, size_t,
                     size_t, size_t, const float *, const float *, size_t, size_t, size_t, float *, float *,
                     size_t, size_t, size_t, size_t, size_t, size_t);
int main(void) {
  size_t lengths[] = {1, 7, 16, 17, 100, 384, 1500};
  double worst = 0;
  for (int t = 0; t < 7; ++t)
    for (int split = 1; split <= 7; split += 3) {
      size_t n = lengths[t], rows = 5, size = rows * n;
      float *x = malloc(4 * size), *y = malloc(4 * size), *w = malloc(4 * n), *b = malloc(4 * n);
      for (size_t i = 0; i < size; ++i) x[i] = ((float)((double)rand() / RAND_MAX) * 2 - 1) * 3 + (i / n == 3 ? 50 : 0);
      for (size_t i = 0; i < n; ++i) x[4 * n + i] = 2.5f;  // a constant row: var 0, only eps under the root
      for (size_t i = 0; i < n; ++i) w[i] = 0.5f + (float)i / (float)n, b[i] = (float)(i % 5) * 0.1f - 0.2f;
      for (size_t wg = 0; wg < (size_t)split; ++wg)
        layer_norm_last(M(x, size), M(w, n), M(b, n), M(y, size), n, wg, (size_t)split);
      for (size_t r = 0; r < rows; ++r) {
        double mean = 0, var = 0;
        for (size_t i = 0; i < n; ++i) mean += x[r * n + i];
        mean /= (double)n;
        for (size_t i = 0; i < n; ++i) var += (x[r * n + i] - mean) * (x[r * n + i] - mean);
        double inv = 1.0 / sqrt(var / (double)n + 1e-5);
        for (size_t i = 0; i < n; ++i) {
          double want = (x[r * n + i] - mean) * inv * w[i] + b[i], got = y[r * n + i];
          double err = fabs(got - want) / (fabs(want) > 1.0 ? fabs(want) : 1.0);
          if (!(err <= worst)) worst = err;  // NaN too
        }
      }
      free(x), free(y), free(w), free(b);
    }
  printf("layer norm max error %g\n", worst);
  puts(worst < 1e-5 ? "ok" : "FAIL");
  return worst < 1e-5 ? 0 : 1;
}
