// Host check of depthwise3x3_nchw.c against a plain double-precision loop (odd sizes, images
// narrower than a block, both strides, a batch of two, the planes split over 1, 3 and 7 workgroups;
// sizes of another padding filled with NaN), outside IREE. Build as kernels/softmax/check_host.c says.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#define M(p, size) p, p, 0, size, 1  // a flat memref: base, data, offset, size, stride
void depthwise3x3_nchw(const float *, const float *, size_t, size_t, size_t, const float *, const float *,
                       size_t, size_t, size_t, float *, float *, size_t, size_t, size_t, size_t, size_t, size_t,
                       size_t, size_t, size_t, size_t);
static float rnd(void) { return (float)((double)rand() / RAND_MAX * 2 - 1); }
int main(void) {
  size_t cases[][5] = {{1, 32, 112, 112, 1}, {1, 96, 112, 112, 2}, {2, 5, 9, 7, 1}, {1, 7, 10, 9, 2},
                       {1, 3, 5, 40, 2},     {2, 4, 3, 3, 1},      {1, 17, 35, 1, 2}, {1, 9, 67, 66, 2}};
  double worst = 0;
  int bad = 0;
  for (int t = 0; t < 8; ++t)
    for (size_t split = 1; split <= 7; split += 3) {
      size_t n = cases[t][0], c = cases[t][1], h = cases[t][2], w = cases[t][3], s = cases[t][4];
      size_t oh = (h - 1) / s + 1, ow = (w - 1) / s + 1, isz = n * c * h * w, osz = n * c * oh * ow;
      float *in = malloc(4 * isz), *f = malloc(4 * 9 * c), *o = malloc(4 * osz);
      for (size_t i = 0; i < isz; ++i) in[i] = rnd() * 3;
      for (size_t i = 0; i < 9 * c; ++i) f[i] = rnd();
      for (size_t wg = 0; wg < split; ++wg)
        depthwise3x3_nchw(M(in, isz), M(f, 9 * c), M(o, osz), c, h, w, oh, ow, wg, split);
      double err = 0;
      for (size_t b = 0; b < n; ++b)
        for (size_t k = 0; k < c; ++k)
          for (size_t y = 0; y < oh; ++y)
            for (size_t x = 0; x < ow; ++x) {
              double a = 0;
              for (int ky = 0; ky < 3; ++ky)
                for (int kx = 0; kx < 3; ++kx) {
                  long iy = (long)(y * s) - 1 + ky, ix = (long)(x * s) - 1 + kx;
                  if (iy >= 0 && iy < (long)h && ix >= 0 && ix < (long)w)
                    a += (double)in[((b * c + k) * h + iy) * w + ix] * f[k * 9 + ky * 3 + kx];
                }
              double e = fabs(a - o[((b * c + k) * oh + y) * ow + x]);
              if (!(e <= err)) err = e;  // NaN too
            }
      if (split == 1) printf("dw s%zu %zux%zux%zux%zu err %g\n", s, n, c, h, w, err);
      if (!(err <= worst)) worst = err;
      free(in), free(f), free(o);
    }
  // padding 0, stride 1 (OH = H - 2 = 5 of 7): not this kernel's, refused as NaN. (At H = 5 it would
  // read as stride 2: kernel.toml's padding filter keeps such a convolution out of the spec.)
  float in[4 * 7 * 7], f[4 * 9] = {0}, o[4 * 5 * 5];
  for (int i = 0; i < 4 * 7 * 7; ++i) in[i] = 1;
  depthwise3x3_nchw(M(in, 4 * 7 * 7), M(f, 36), M(o, 100), 4, 7, 7, 5, 5, 0, 1);
  bad |= !isnan(o[0]) || !isnan(o[99]);
  printf("max absolute error %g; another padding %s\n", worst, bad ? "NOT refused" : "refused (NaN)");
  bad |= !(worst < 1e-5);
  puts(bad ? "FAIL" : "ok");
  return bad;
}
