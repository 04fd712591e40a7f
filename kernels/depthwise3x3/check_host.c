// Host check of depthwise3x3.c's fused entries and its 5x5 entries against a plain double-precision
// loop (odd sizes, channel tails, both strides, the stem), outside IREE: a wrong kernel shows here, not as a model
// mismatch. Build the kernel for the host, then this file with any C compiler, and run:
//   clang -target x86_64-unknown-unknown-eabi-elf -march=x86-64-v4 -ffreestanding -fvisibility=hidden \
//     -fno-plt -ffunction-sections -fdata-sections -O3 -std=c11 -c depthwise3x3.c -o /tmp/dw.o
//   clang -O1 -w check_host.c /tmp/dw.o -lm -o /tmp/check && /tmp/check
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#define M(p) p, p, 0, 0, 1
void conv3x3_s2_bn_relu6_nchw_nhwc();
void depthwise3x3_bn_relu6_s1_nhwc(); void depthwise3x3_bn_relu6_s2_nhwc();
void depthwise5x5_s1_nhwc(); void depthwise5x5_s2_nhwc();
static float rnd(void) { return (float)rand() / RAND_MAX * 2 - 1; }
static float act(float v, float s, float b) { v = v * s + b; v = v > 0 ? v : 0; return v > 6 ? 6 : v; }
int main(void) {
  int bad = 0;
  int st[][4] = {{224,224,3,32},{17,13,3,20},{9,8,2,16},{6,7,1,35}};
  for (int t = 0; t < 4; ++t) {
    size_t h = st[t][0], w = st[t][1], ci = st[t][2], co = st[t][3], oh = (h - 1) / 2 + 1, ow = (w - 1) / 2 + 1;
    float *in = malloc(4*h*w*ci), *f = malloc(4*9*ci*co), *s = malloc(4*co), *b = malloc(4*co), *o = malloc(4*oh*ow*co);
    for (size_t i = 0; i < h*w*ci; ++i) in[i] = rnd()*3;
    for (size_t i = 0; i < 9*ci*co; ++i) f[i] = rnd();
    for (size_t i = 0; i < co; ++i) { s[i] = rnd()*2; b[i] = rnd()*3; }
    conv3x3_s2_bn_relu6_nchw_nhwc(M(in), M(f), M(s), M(b), M(o), h, w, ci, co, oh, ow, (size_t)0, oh);
    double err = 0;
    for (size_t y = 0; y < oh; ++y) for (size_t x = 0; x < ow; ++x) for (size_t c = 0; c < co; ++c) {
      double a = 0;
      for (size_t k = 0; k < ci; ++k) for (int ky = 0; ky < 3; ++ky) for (int kx = 0; kx < 3; ++kx) {
        long iy = 2*y - 1 + ky, ix = 2*x - 1 + kx;
        if (iy < 0 || iy >= (long)h || ix < 0 || ix >= (long)w) continue;
        a += in[(k*h + iy)*w + ix] * f[((ky*3+kx)*ci + k)*co + c];
      }
      double e = fabs(act(a, s[c], b[c]) - o[(y*ow+x)*co + c]); if (e > err) err = e;
    }
    printf("stem %zux%zux%zu->%zu err %g\n", h, w, ci, co, err); bad |= err > 1e-4;
  }
  // c = 24, 40, 17: a last block that overlaps the one before it; c = 8, 3: fewer channels than a block.
  int ds[][4] = {{112,112,32,1},{112,112,96,2},{9,7,24,1},{10,9,40,2},{5,6,17,2},{3,3,17,1},{6,5,8,1},{7,6,3,2}};
  for (int t = 0; t < 8; ++t) {
    size_t h = ds[t][0], w = ds[t][1], c = ds[t][2], sd = ds[t][3], oh = (h - 1) / sd + 1, ow = (w - 1) / sd + 1;
    float *in = malloc(4*h*w*c), *f = malloc(4*9*c), *s = malloc(4*c), *b = malloc(4*c), *o = malloc(4*oh*ow*c);
    for (size_t i = 0; i < h*w*c; ++i) in[i] = rnd()*3;
    for (size_t i = 0; i < 9*c; ++i) f[i] = rnd();
    for (size_t i = 0; i < c; ++i) { s[i] = rnd()*2; b[i] = rnd()*3; }
    (sd == 1 ? depthwise3x3_bn_relu6_s1_nhwc : depthwise3x3_bn_relu6_s2_nhwc)(M(in), M(f), M(s), M(b), M(o), h, w, c, oh, ow, (size_t)0, oh);
    double err = 0;
    for (size_t y = 0; y < oh; ++y) for (size_t x = 0; x < ow; ++x) for (size_t ch = 0; ch < c; ++ch) {
      double a = 0;
      for (int ky = 0; ky < 3; ++ky) for (int kx = 0; kx < 3; ++kx) {
        long iy = sd*y - 1 + ky, ix = sd*x - 1 + kx;
        if (iy < 0 || iy >= (long)h || ix < 0 || ix >= (long)w) continue;
        a += in[(iy*w + ix)*c + ch] * f[(ky*3+kx)*c + ch];
      }
      double e = fabs(act(a, s[ch], b[ch]) - o[(y*ow+x)*c + ch]); if (e > err) err = e;
    }
    printf("dw s%zu %zux%zux%zu err %g\n", sd, h, w, c, err); bad |= err > 1e-4;
  }
  // 5x5, padding 2, no epilogue: MobileNetV3-small's sizes (14x14x240, 7x7x576, 28x28x96 s2) and odd ones.
  int d5[][4] = {{14,14,240,1},{7,7,576,1},{28,28,96,2},{14,14,288,2},{9,7,24,1},{10,9,40,2},{5,6,17,2},{3,3,17,1},{2,4,16,2},{14,14,120,1},{6,5,8,1}};
  for (int t = 0; t < 11; ++t) {
    size_t h = d5[t][0], w = d5[t][1], c = d5[t][2], sd = d5[t][3], oh = (h - 1) / sd + 1, ow = (w - 1) / sd + 1;
    float *in = malloc(4*h*w*c), *f = malloc(4*25*c), *o = malloc(4*oh*ow*c);
    for (size_t i = 0; i < h*w*c; ++i) in[i] = rnd()*3;
    for (size_t i = 0; i < 25*c; ++i) f[i] = rnd();
    (sd == 1 ? depthwise5x5_s1_nhwc : depthwise5x5_s2_nhwc)(M(in), M(f), M(o), h, w, c, oh, ow, (size_t)0, oh);
    double err = 0;
    for (size_t y = 0; y < oh; ++y) for (size_t x = 0; x < ow; ++x) for (size_t ch = 0; ch < c; ++ch) {
      double a = 0;
      for (int ky = 0; ky < 5; ++ky) for (int kx = 0; kx < 5; ++kx) {
        long iy = sd*y - 2 + ky, ix = sd*x - 2 + kx;
        if (iy < 0 || iy >= (long)h || ix < 0 || ix >= (long)w) continue;
        a += in[(iy*w + ix)*c + ch] * f[(ky*5+kx)*c + ch];
      }
      double e = fabs(a - o[(y*ow+x)*c + ch]); if (e > err) err = e;
    }
    printf("dw5x5 s%zu %zux%zux%zu err %g\n", sd, h, w, c, err); bad |= err > 1e-4;
  }
  printf(bad ? "FAIL\n" : "ok\n"); return bad;
}
