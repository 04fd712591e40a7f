// MobileNetV2's 17 depthwise 3x3 layers (BatchNorm + ReLU6 fused) through kernels/depthwise3x3's
// entries, one thread's CPU time, two ways: each layer repeated on its own buffers (`hot`: input,
// output and filter in cache, the best of 5 calls), and the 17 in sequence with each input just
// written by its producer (`warm`: as in the model, where the expanding 1x1 convolution has just
// written it, and the output's lines not yet in cache). Prints one line per way: the minimum and
// median over the rounds of the 17 layers' sum, ms; then their floating-point operations. Built and
// run by run.py.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define M(p) p, p, 0, 0, 1
void depthwise3x3_bn_relu6_s1_nhwc();
void depthwise3x3_bn_relu6_s2_nhwc();
static const int L[][4] = {  // h, w, c, stride
    {112, 112, 32, 1}, {112, 112, 96, 2}, {56, 56, 144, 1}, {56, 56, 144, 2}, {28, 28, 192, 1},
    {28, 28, 192, 1},  {28, 28, 192, 2},  {14, 14, 384, 1}, {14, 14, 384, 1}, {14, 14, 384, 1},
    {14, 14, 384, 1},  {14, 14, 576, 1},  {14, 14, 576, 1}, {14, 14, 576, 2}, {7, 7, 960, 1},
    {7, 7, 960, 1},    {7, 7, 960, 1}};
#define N (int)(sizeof L / sizeof L[0])
static float *in[N], *flt[N], *scale[N], *shift[N], *out[N];
static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}
static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}
static double layer(int i) {
  size_t h = L[i][0], w = L[i][1], c = L[i][2], sd = L[i][3], oh = (h - 1) / sd + 1, ow = (w - 1) / sd + 1;
  double t0 = now();
  if (sd == 1)
    depthwise3x3_bn_relu6_s1_nhwc(M(in[i]), M(flt[i]), M(scale[i]), M(shift[i]), M(out[i]), h, w, c, oh, ow, (size_t)0, oh);
  else
    depthwise3x3_bn_relu6_s2_nhwc(M(in[i]), M(flt[i]), M(scale[i]), M(shift[i]), M(out[i]), h, w, c, oh, ow, (size_t)0, oh);
  return now() - t0;
}
static void produce(int i) {
  for (size_t j = 0; j < (size_t)L[i][0] * L[i][1] * L[i][2]; ++j) in[i][j] = (float)(j % 97) * 0.01f;
}
static void report(const char *way, double *t, int rounds) {
  qsort(t, rounds, sizeof *t, cmp);
  printf("%s %.4f %.4f\n", way, t[0], t[rounds / 2]);
}
int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 15;
  double t[2][256];
  for (int i = 0; i < N; ++i) {
    size_t hw = (size_t)L[i][0] * L[i][1], c = L[i][2];
    in[i] = malloc(4 * hw * c), flt[i] = malloc(4 * 9 * c), scale[i] = malloc(4 * c), shift[i] = malloc(4 * c);
    out[i] = malloc(4 * hw * c);
    for (size_t j = 0; j < 9 * c; ++j) flt[i][j] = (float)(j % 13) * 0.1f - 0.6f;
    for (size_t j = 0; j < c; ++j) scale[i][j] = 1.0f, shift[i][j] = 0.1f;
    produce(i);
  }
  for (int r = 0; r < rounds && r < 256; ++r) {
    t[0][r] = t[1][r] = 0;
    for (int i = 0; i < N; ++i) {
      double best = 1e30;
      for (int k = 0; k < 5; ++k) { double s = layer(i); best = s < best ? s : best; }
      t[0][r] += best;
    }
    for (int i = 0; i < N; ++i) produce(i), t[1][r] += layer(i);
  }
  double flops = 0;  // a multiply and an add per tap, channel and output pixel
  for (int i = 0; i < N; ++i) flops += 18.0 * ((L[i][0] - 1) / L[i][3] + 1) * ((L[i][1] - 1) / L[i][3] + 1) * L[i][2];
  report("hot", t[0], rounds), report("warm", t[1], rounds);
  printf("flops %.0f 0\n", flops);
  return 0;
}
