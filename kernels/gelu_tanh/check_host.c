// Host check of gelu_tanh.c against torch's formula in double precision, 0.5 x (1 + tanh(sqrt(2/pi)
// (x + 0.044715 x^3))), on a dense grid of [-12, 12] and lengths that fill no block, split over 1, 3
// and 7 workgroups, outside IREE. Build as kernels/softmax/check_host.c says.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#define M(p, size) p, p, 0, size, 1  // a flat memref: base, data, offset, size, stride
void gelu_tanh(const float *, const float *, size_t, size_t, size_t, float *, float *, size_t, size_t, size_t,
               size_t, size_t);
int main(void) {
  size_t sizes[] = {1, 15, 17, 24001};
  double worst = 0, worst_abs = 0;
  for (int t = 0; t < 4; ++t)
    for (int split = 1; split <= 7; split += 3) {
      size_t n = sizes[t];
      float *x = malloc(4 * n), *y = malloc(4 * n);
      for (size_t i = 0; i < n; ++i) x[i] = n > 1 ? -12.0f + 24.0f * (float)i / (float)(n - 1) : 0.5f;
      for (size_t wg = 0; wg < (size_t)split; ++wg) gelu_tanh(M(x, n), M(y, n), wg, (size_t)split);
      for (size_t i = 0; i < n; ++i) {
        double v = x[i], want = 0.5 * v * (1 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
        double a = fabs(y[i] - want), r = fabs(want) > 1e-6 ? a / fabs(want) : 0;
        if (!(a <= worst_abs)) worst_abs = a;
        if (!(r <= worst)) worst = r;
      }
      free(x), free(y);
    }
  printf("gelu_tanh max relative error %g (where |gelu| > 1e-6), max absolute error %g\n", worst, worst_abs);
  int good = worst < 1e-5 && worst_abs < 1e-6;
  puts(good ? "ok" : "FAIL");
  return good ? 0 : 1;
}
