// Host check of global_avg_pool.c against a double-precision mean per plane (planes that fill no
// block, one pixel, MobileNetV3-small's 56x56, 14x14 and 7x7; the planes split over 1, 3 and 7
// workgroups), outside IREE: a wrong kernel shows here, not as a model mismatch. Build the kernel for
// the host, then this file with any C compiler, and run (tests/unit/test_library_kernels.py does):
//   clang -target x86_64-freestanding-none -mcpu=native -ffreestanding -O3 -c global_avg_pool.c -o /tmp/gap.o
//   clang -O1 check_host.c /tmp/gap.o -lm -o /tmp/check && /tmp/check
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#define M(p, size) p, p, 0, size, 1  // a flat memref: base, data, offset, size, stride
void global_avg_pool(const float *, const float *, size_t, size_t, size_t, float *, float *, size_t, size_t,
                     size_t, size_t, size_t, size_t, size_t);
int main(void) {
  size_t sides[][2] = {{1, 1}, {3, 5}, {4, 4}, {7, 7}, {14, 14}, {56, 56}};
  double worst = 0;
  for (int t = 0; t < 6; ++t)
    for (int split = 1; split <= 7; split += 3) {
      size_t h = sides[t][0], w = sides[t][1], planes = 2 * 19, n = h * w;
      float *x = malloc(4 * planes * n), *y = malloc(4 * planes);
      for (size_t i = 0; i < planes * n; ++i) x[i] = ((float)((double)rand() / RAND_MAX) * 2 - 1) * 6.0f;
      for (size_t wg = 0; wg < (size_t)split; ++wg) global_avg_pool(M(x, planes * n), M(y, planes), h, w, wg, (size_t)split);
      for (size_t p = 0; p < planes; ++p) {
        double sum = 0, scale = 0;
        for (size_t i = 0; i < n; ++i) sum += x[p * n + i], scale += fabs(x[p * n + i]);
        double err = fabs(y[p] - sum / n) / (scale / n > 1e-30 ? scale / n : 1e-30);  // of the mean's scale
        if (!(err <= worst)) worst = err;  // NaN too
      }
      free(x), free(y);
    }
  printf("global_avg_pool max error %g (of the mean absolute value)\n", worst);
  puts(worst < 1e-5 ? "ok" : "FAIL");
  return worst < 1e-5 ? 0 : 1;
}
