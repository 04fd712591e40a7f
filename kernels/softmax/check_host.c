// Host check of softmax.c against a plain double-precision softmax (row lengths that fill no block,
// one value, wide rows, large and tiny inputs; the rows split over 1, 3 and 7 workgroups), outside
// IREE: a wrong kernel shows here, not as a model mismatch. Build the kernel for the host, then this
// file with any C compiler, and run (tests/unit/test_library_kernels.py does):
//   clang -target x86_64-freestanding-none -mcpu=native -ffreestanding -O3 -c softmax.c -o /tmp/sm.o
//   clang -O1 check_host.c /tmp/sm.o -lm -o /tmp/check && /tmp/check
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#define M(p, size) p, p, 0, size, 1  // a flat memref: base, data, offset, size, stride
void softmax_last(const float *, const float *, size_t, size_t, size_t, float *, float *, size_t, size_t,
                  size_t, size_t, size_t, size_t);
int main(void) {
  size_t lengths[] = {1, 7, 16, 17, 100, 2048, 1500};
  double worst = 0;
  for (int t = 0; t < 7; ++t)
    for (int split = 1; split <= 7; split += 3) {
      size_t n = lengths[t], rows = 5, size = rows * n;
      float *x = malloc(4 * size), *y = malloc(4 * size);
      for (size_t i = 0; i < size; ++i) x[i] = ((float)((double)rand() / RAND_MAX) * 2 - 1) * (i % 3 ? 4.0f : 60.0f);
      for (size_t wg = 0; wg < (size_t)split; ++wg) softmax_last(M(x, size), M(y, size), n, wg, (size_t)split);
      for (size_t r = 0; r < rows; ++r) {
        double top = x[r * n], sum = 0;
        for (size_t i = 0; i < n; ++i) top = fmax(top, x[r * n + i]);
        for (size_t i = 0; i < n; ++i) sum += exp((double)x[r * n + i] - top);
        for (size_t i = 0; i < n; ++i) {
          double want = exp((double)x[r * n + i] - top) / sum, got = y[r * n + i];
          double err = fabs(got - want) / (want > 1e-30 ? want : 1e-30);  // relative
          if (want < 1e-30) err = fabs(got - want);
          if (!(err <= worst)) worst = err;  // NaN too
        }
      }
      free(x), free(y);
    }
  printf("softmax max relative error %g\n", worst);
  puts(worst < 1e-5 ? "ok" : "FAIL");
  return worst < 1e-5 ? 0 : 1;
}
