// Host check of pointwise.c's 1x1 entries against a plain double-precision loop (MobileNetV2's
// shapes, channel tails, every workgroup split), outside IREE; with an argument, each MobileNetV2
// layer timed on one thread (GFLOP/s); with `model`, MobileNetV2's 34 1x1 layers called in the
// model's order, once each, as the model calls them (their data no longer hot: ms a sequence).
// Build the kernel for the host (pointwise.c and depthwise3x3.c), then this file, and run:
//   zig cc -target x86_64-linux-gnu -march=native -O3 -std=c11 -c pointwise.c -o /tmp/pw.o
//   zig cc -target x86_64-linux-gnu -march=native -O3 -std=c11 -c depthwise3x3.c -o /tmp/dw.o
//   zig cc -target x86_64-linux-gnu -O1 -w check_host.c /tmp/pw.o /tmp/dw.o -lm -o /tmp/check
//   /tmp/check [bench | model]
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define M(p) p, p, (size_t)0, (size_t)0, (size_t)1
void conv1x1_bn_relu6_torch();
void conv1x1_torch();
static float rnd(void) { return (float)rand() / RAND_MAX * 2 - 1; }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
// h, w, cin, cout: MobileNetV2's expansions and projections, then odd ones (tails of 8 and of 1..7)
static int shapes[][4] = {{112,112,32,16},{112,112,16,96},{56,56,96,24},{56,56,24,144},{56,56,144,24},{28,28,144,32},
  {28,28,32,192},{28,28,192,32},{14,14,192,64},{14,14,64,384},{14,14,384,64},{14,14,384,96},{14,14,96,576},
  {14,14,576,96},{7,7,576,160},{7,7,160,960},{7,7,960,160},{7,7,960,320},{7,7,320,1280},
  {5,3,17,24},{1,1,9,8},{3,7,300,21},{2,2,5,3},{9,9,260,40}};
// MobileNetV2's 1x1 layers in order: h, w, cin, cout, BatchNorm + ReLU6 fused (the expansions)
static int model[][5] = {{112,112,32,16,0},{112,112,16,96,1},{56,56,96,24,0},{56,56,24,144,1},{56,56,144,24,0},
  {56,56,24,144,1},{28,28,144,32,0},{28,28,32,192,1},{28,28,192,32,0},{28,28,32,192,1},{28,28,192,32,0},
  {28,28,32,192,1},{14,14,192,64,0},{14,14,64,384,1},{14,14,384,64,0},{14,14,64,384,1},{14,14,384,64,0},
  {14,14,64,384,1},{14,14,384,64,0},{14,14,64,384,1},{14,14,384,96,0},{14,14,96,576,1},{14,14,576,96,0},
  {14,14,96,576,1},{14,14,576,96,0},{14,14,96,576,1},{7,7,576,160,0},{7,7,160,960,1},{7,7,960,160,0},
  {7,7,160,960,1},{7,7,960,160,0},{7,7,160,960,1},{7,7,960,320,0},{7,7,320,1280,1}};
static int sequence(void) {
  int n = sizeof model / sizeof *model;
  float *w[sizeof model / sizeof *model], *act = malloc(4 << 21), *out = malloc(4 << 21), *bn = malloc(4 * 1280);
  for (int i = 0; i < (1 << 21); ++i) act[i] = rnd();
  for (int i = 0; i < 1280; ++i) bn[i] = 1.0f;
  for (int i = 0; i < n; ++i) {
    w[i] = malloc(4 * model[i][2] * model[i][3]);
    for (int j = 0; j < model[i][2] * model[i][3]; ++j) w[i][j] = rnd() / 16;
  }
  double t[20];
  for (int r = 0; r < 20; ++r) {
    double t0 = now();
    for (int i = 0; i < n; ++i) {
      size_t h = model[i][0], wd = model[i][1], ci = model[i][2], co = model[i][3];
      if (model[i][4]) conv1x1_bn_relu6_torch(M(act), M(w[i]), M(bn), M(bn), M(bn), M(bn), M(out), h, wd, ci, co, (size_t)0, (size_t)1);
      else conv1x1_torch(M(act), M(w[i]), M(out), h, wd, ci, co, (size_t)0, (size_t)1);
    }
    t[r] = now() - t0;
  }
  for (int i = 1; i < 20; ++i) for (int j = i; j > 0 && t[j] < t[j - 1]; --j) { double x = t[j]; t[j] = t[j - 1]; t[j - 1] = x; }
  printf("MobileNetV2's 34 1x1 layers in order: %.3f ms a sequence (median of 20; min %.3f, max %.3f)\n", t[10] * 1e3, t[0] * 1e3, t[19] * 1e3);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && argv[1][0] == 'm') return sequence();
  int bad = 0, n_shapes = sizeof shapes / sizeof *shapes;
  for (int t = 0; t < n_shapes; ++t) {
    size_t h = shapes[t][0], w = shapes[t][1], ci = shapes[t][2], co = shapes[t][3], m = h * w;
    float *in = malloc(4 * m * ci), *f = malloc(4 * ci * co), *o = malloc(4 * m * co), *o2 = malloc(4 * m * co);
    float *mean = malloc(4 * co), *inv = malloc(4 * co), *wt = malloc(4 * co), *bias = malloc(4 * co);
    for (size_t i = 0; i < m * ci; ++i) in[i] = rnd();
    for (size_t i = 0; i < ci * co; ++i) f[i] = rnd() / 4;
    for (size_t i = 0; i < co; ++i) mean[i] = rnd(), inv[i] = rnd() + 1.5f, wt[i] = rnd(), bias[i] = rnd() * 3;
    for (size_t wgs = 1; wgs <= h; wgs += h > 3 ? h - 1 : 1) {  // one workgroup, and one per row
      for (size_t g = 0; g < wgs; ++g) {
        conv1x1_bn_relu6_torch(M(in), M(f), M(mean), M(inv), M(wt), M(bias), M(o), h, w, ci, co, g, wgs);
        conv1x1_torch(M(in), M(f), M(o2), h, w, ci, co, g, wgs);
      }
      double err = 0;
      for (size_t p = 0; p < m; ++p)
        for (size_t c = 0; c < co; ++c) {
          double a = 0;
          for (size_t k = 0; k < ci; ++k) a += (double)in[p * ci + k] * f[k * co + c];
          double s = (double)inv[c] * wt[c], y = (a - mean[c]) * s + bias[c];
          y = y > 0 ? (y < 6 ? y : 6) : 0;
          double e = fmax(fabs(y - o[p * co + c]), fabs(a - o2[p * co + c]));
          if (e > err) err = e;
        }
      bad |= err > 1e-4;
      if (err > 1e-4 || argc < 2) printf("%zux%zux%zu->%zu wgs %zu err %g\n", h, w, ci, co, wgs, err);
    }
    if (argc > 1 && t < 19) {
      int reps = (int)(2e8 / (2.0 * m * ci * co)) + 3;
      double best = 1e9;
      for (int r = 0; r < 5; ++r) {
        double t0 = now();
        for (int i = 0; i < reps; ++i) conv1x1_bn_relu6_torch(M(in), M(f), M(mean), M(inv), M(wt), M(bias), M(o), h, w, ci, co, (size_t)0, (size_t)1);
        double dt = (now() - t0) / reps;
        if (dt < best) best = dt;
      }
      printf("%3zux%-3zu %4zu->%-4zu %7.3f ms %5.1f GFLOP/s\n", h, w, ci, co, best * 1e3, 2.0 * m * ci * co / best * 1e-9);
    }
    free(in), free(f), free(o), free(o2), free(mean), free(inv), free(wt), free(bias);
  }
  printf(bad ? "FAILED\n" : "ok\n");
  return bad;
}
