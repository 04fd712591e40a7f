// Depthwise 3x3 convolution, f32, NCHW, zero padding of one pixel handled inside (no padded copy),
// stride 1 or 2, no bias: torch's Conv2d(C, C, 3, padding=1, groups=C, bias=False) as turbine
// exports it and IREE holds it without the channels-last preprocessing (input [N][C][H][W], filter
// [C][3][3], output [N][C][OH][OW]). Each channel's plane is its own 2-D convolution: output columns
// BLOCK at a time in clang's vector extension (blocks.h: a link to ../softmax/blocks.h), so one
// source vectorises for AVX-512, AVX2, NEON or plain scalar code; a stride-2 row takes the even
// and odd columns of two loads by a shuffle. The image's edges take a scalar loop. This workgroup's
// share of the planes (the dispatch is split over workgroups as IREE splits its own).
//
// The stride is read from the sizes (OH = H: 1; OH = (H + 1) / 2: 2); sizes of neither (another
// padding or stride) fill the output with NaN, so the check against torch refuses the kernel
// rather than a wrong answer passing.
#include "blocks.h"

// One output pixel, any window bounds: the image's edges and the columns that fill no block.
static float pixel(const float *plane, const float *f, size_t h, size_t w, ptrdiff_t iy0, ptrdiff_t ix0) {
  float acc = 0.0f;
  for (int ky = 0; ky < 3; ++ky) {
    ptrdiff_t iy = iy0 + ky;
    if (iy < 0 || iy >= (ptrdiff_t)h) continue;
    for (int kx = 0; kx < 3; ++kx) {
      ptrdiff_t ix = ix0 + kx;
      if (ix >= 0 && ix < (ptrdiff_t)w) acc += plane[(size_t)iy * w + (size_t)ix] * f[ky * 3 + kx];
    }
  }
  return acc;
}

#define EVEN(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)

// Output row `oy` of one plane.
static void row(const float *plane, const float *f, float *dst, size_t h, size_t w, size_t ow, size_t oy,
                int stride) {
  const ptrdiff_t iy0 = (ptrdiff_t)(oy * stride) - 1;
  const int ky0 = iy0 < 0 ? 1 : 0, ky1 = iy0 + 3 > (ptrdiff_t)h ? (int)((ptrdiff_t)h - iy0) : 3;
  size_t ox = 0;
  if (ow > 0) dst[0] = pixel(plane, f, h, w, iy0, -1), ox = 1;  // the left edge: column -1 is padding
  // Inside: every column a block of outputs reads lies in the image (column ox * stride - 1 on).
  if (stride == 1) {
    for (; ox + BLOCK + 1 <= w; ox += BLOCK) {
      vblock acc = 0.0f;
      for (int ky = ky0; ky < ky1; ++ky) {
        const float *r = plane + (size_t)(iy0 + ky) * w + ox - 1;
        acc += LOAD(r) * f[ky * 3] + LOAD(r + 1) * f[ky * 3 + 1] + LOAD(r + 2) * f[ky * 3 + 2];
      }
      STORE(dst + ox, acc);
    }
  } else {
    for (; 2 * ox + 2 * BLOCK + 1 <= w; ox += BLOCK) {
      vblock acc = 0.0f;
      for (int ky = ky0; ky < ky1; ++ky) {
        const float *r = plane + (size_t)(iy0 + ky) * w + 2 * ox - 1;
        vblock a = LOAD(r), b = LOAD(r + BLOCK), c = LOAD(r + 2), d = LOAD(r + 2 + BLOCK);
        acc += (vblock)EVEN(a, b) * f[ky * 3] + (vblock)EVEN(c, d) * f[ky * 3 + 2];
        vblock e = LOAD(r + 1), g = LOAD(r + 1 + BLOCK);
        acc += (vblock)EVEN(e, g) * f[ky * 3 + 1];
      }
      STORE(dst + ox, acc);
    }
  }
  for (; ox < ow; ++ox) dst[ox] = pixel(plane, f, h, w, iy0, (ptrdiff_t)(ox * stride) - 1);
}

__attribute__((visibility("protected"))) void depthwise3x3_nchw(
    const float *in_base, const float *in, size_t in_offset, size_t in_size, size_t in_stride,
    const float *filter_base, const float *filter, size_t filter_offset, size_t filter_size,
    size_t filter_stride, float *out_base, float *out, size_t out_offset, size_t out_size, size_t out_stride,
    size_t c, size_t h, size_t w, size_t oh, size_t ow, size_t wg, size_t wgs) {
  (void)in_base, (void)in_stride, (void)filter_base, (void)filter_size, (void)filter_stride, (void)out_base,
      (void)out_stride;
  if (wgs == 0 || c == 0 || h == 0 || w == 0) return;
  const int stride = oh == h && ow == w ? 1 : oh == (h + 1) / 2 && ow == (w + 1) / 2 ? 2 : 0;
  size_t begin, end;  // planes: batch x channels, exact in a double (no integer division on armv6)
  share((size_t)((double)in_size / (double)(h * w)), wg, wgs, &begin, &end);
  size_t ch = begin - (size_t)((double)begin / (double)c) * c;  // this plane's channel
  for (size_t p = begin; p < end; ++p, ch = ch + 1 == c ? 0 : ch + 1) {
    float *dst = out + out_offset + p * oh * ow;
    if (!stride) {
      for (size_t i = 0; i < oh * ow; ++i) dst[i] = __builtin_nanf("");
      continue;
    }
    for (size_t oy = 0; oy < oh; ++oy)
      row(in + in_offset + p * h * w, filter + filter_offset + ch * 9, dst + oy * ow, h, w, ow, oy, stride);
  }
  (void)out_size;
}
