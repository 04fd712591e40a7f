// Depthwise 3x3 convolution, f32, NHWC (channels innermost), zero padding of one pixel on each
// side handled inside (no padded copy of the input), stride 1 or 2; and the same for a 5x5 window
// (padding 2: MobileNetV3-small's), from the same code with the window size a constant. For IREE's llvm-cpu custom
// dispatches: an object file linked into the model's executable (kernel.toml: the spec the tool writes).
//
// Freestanding: no libc, only the compiler's own <stddef.h>. The channel loop works on blocks
// of BLOCK channels accumulated in local vector values (clang's vector extension), several output
// pixels at a time, so that the code is vectorised for the target it is given (-march/-mcpu):
// AVX-512, AVX2, NEON, or plain scalar code on a CPU without SIMD. Channels that do not fill a
// block take a scalar loop.
//
// ABI (what IREE passes to a `hal.import.static` function): each memref<?xf32> argument arrives
// as five values (allocated pointer, aligned pointer, offset, size, stride), each index as a
// size_t.
#include <stddef.h>

#define BLOCK 16
#define INLINE static inline __attribute__((always_inline))

// BLOCK floats as one value: clang's vector extension, lowered to whatever the target has
// (one AVX-512 register, two AVX2 ones, four NEON ones, or sixteen scalars). aligned(4): loads
// and stores of it need no more alignment than a float's.
typedef float vblock __attribute__((ext_vector_type(BLOCK), aligned(4)));
typedef int vint __attribute__((ext_vector_type(BLOCK), aligned(4)));

// (Macros, not functions: a vector passed by value draws -Wpsabi on targets without AVX-512.)
#define LOAD(p) (*(const vblock *)(p))
#define STORE(p, v) (*(vblock *)(p) = (v))

// `npix` output pixels of one row, channels [c0, c0 + BLOCK), a K x K window (K = 3 or 5). `src`
// points at input row iy0 = oy * stride - P, column ix0 = ox * stride - P (P = (K - 1) / 2, the
// padding), channel c0: it may point before the input; only rows ky0..ky1-1 and columns
// kx0..kx1-1 of the window are read. `wt` points at the filter's channel c0 ([K][K][c]).
// With `sc` (the fused epilogue): out = min(max(acc * sc + sh, 0), 6), the per-channel
// scale and shift of an inference BatchNorm followed by ReLU6, as compares and selects (what the
// model's linalg ops do), so no libm call is needed on any target.
INLINE void pixels(float *restrict dst, const float *restrict src, const float *wt, const int K,
                   size_t c, size_t row_stride, int ky0, int ky1, const int kx0, const int kx1,
                   const int npix, const int stride, const float *sc, const float *sh) {
  vblock acc[4];
  for (int p = 0; p < npix; ++p) acc[p] = (vblock)0.0f;
  for (int ky = ky0; ky < ky1; ++ky) {
    const float *row = src + (ptrdiff_t)ky * (ptrdiff_t)row_stride;
    for (int kx = kx0; kx < kx1; ++kx)
      for (int p = 0; p < npix; ++p)
        acc[p] += LOAD(row + (ptrdiff_t)(p * stride + kx) * (ptrdiff_t)c) *
                  LOAD(wt + (size_t)(ky * K + kx) * c);
  }
  if (sc) {
    const vblock zero = 0.0f, six = 6.0f, scale = LOAD(sc), shift = LOAD(sh);
    for (int p = 0; p < npix; ++p) {
      vblock v = acc[p] * scale + shift;
      vint pos = v > zero;  // select(v > 0, v, 0)
      v = (vblock)(pos & (vint)v);
      vint big = six < v;  // select(6 < v, 6, v)
      acc[p] = (vblock)((big & (vint)six) | (~big & (vint)v));
    }
  }
  for (int p = 0; p < npix; ++p) STORE(dst + (size_t)p * c, acc[p]);
}

// `npix` output pixels from column ox, every block of channels: the pixels' channels are contiguous
// in NHWC, so the input rows and the output row are read and written in address order. (Looping
// over blocks outside the pixels instead, as this file did first, strides the whole row once per
// block: 1.4x the time on a Zen 3 (AVX2) for MobileNetV2's depthwise layers, their input in cache.)
// Channels that fill no block (MobileNetV3-small's 72, 88, 120) take one more block ending at
// channel c, which computes some channels twice, to the same values: no scalar tail where c >= BLOCK.
INLINE void blocks(float *restrict dst, const float *restrict src, const float *filter,
                   const float *scale, const float *shift, const int K, size_t c, size_t row_stride,
                   int ky0, int ky1, const int kx0, const int kx1, const int npix, const int stride) {
  for (size_t c0 = 0; c0 < c; c0 += BLOCK) {
    if (c0 + BLOCK > c) c0 = c - BLOCK;  // the last block, overlapping the one before it
    pixels(dst + c0, src + c0, filter + c0, K, c, row_stride, ky0, ky1, kx0, kx1, npix, stride,
           scale ? scale + c0 : 0, scale ? shift + c0 : 0);
  }
}

// Channel c0 alone, any window bounds: the tail of channels that fill no block.
INLINE float one(const float *in, const float *filter, const int K, size_t h, size_t w, size_t c,
                 ptrdiff_t iy0, ptrdiff_t ix0, size_t c0) {
  float acc = 0.0f;
  for (int ky = 0; ky < K; ++ky) {
    ptrdiff_t iy = iy0 + ky;
    if (iy < 0 || iy >= (ptrdiff_t)h) continue;
    for (int kx = 0; kx < K; ++kx) {
      ptrdiff_t ix = ix0 + kx;
      if (ix < 0 || ix >= (ptrdiff_t)w) continue;
      acc += in[((size_t)iy * w + (size_t)ix) * c + c0] * filter[(size_t)(ky * K + kx) * c + c0];
    }
  }
  return acc;
}

INLINE float epilogue(float v, const float *scale, const float *shift, size_t c0) {
  if (!scale) return v;
  v = v * scale[c0] + shift[c0];
  v = v > 0.0f ? v : 0.0f;
  return 6.0f < v ? 6.0f : v;
}

// Output row `oy` of a K x K depthwise convolution with zero padding P = (K - 1) / 2 (PyTorch's
// `padding=K // 2`):  in [h][w][c], filter [K][K][c], out [oh][ow][c].
INLINE void row(const float *restrict in, const float *restrict filter, const float *scale,
                const float *shift, float *restrict out, const int K, size_t h, size_t w, size_t c,
                size_t ow, size_t oy, const int stride) {
  const int P = (K - 1) / 2;
  const size_t row_stride = w * c;
  const ptrdiff_t iy0 = (ptrdiff_t)(oy * stride) - P;
  const int ky0 = iy0 < 0 ? (int)-iy0 : 0;
  const int ky1 = iy0 + K > (ptrdiff_t)h ? (int)((ptrdiff_t)h - iy0) : K;
  // Output columns whose whole window lies inside the input: [lo, hi), lo = ceil(P / stride),
  // hi the first ox with ox*stride - P + K > w.
  size_t lo = (size_t)((P + stride - 1) / stride);
  if (lo > ow) lo = ow;
  size_t hi = w + P >= (size_t)K ? (w + P - K) / stride + 1 : 0;
  if (hi > ow) hi = ow;
  if (hi < lo) hi = lo;
  const float *top = in + iy0 * (ptrdiff_t)row_stride;  // may point before `in`: never read
  float *dst = out + oy * ow * c;
  const float *base = top - (ptrdiff_t)P * (ptrdiff_t)c;  // column -P
  size_t ox = c < BLOCK ? ow : 0;  // (no block)
  // The left edge, then the inside four pixels at a time, then the right edge: at the edges the
  // window's columns outside the input are padding, never read.
  for (; ox < lo; ++ox) {
    const ptrdiff_t ix0 = (ptrdiff_t)(ox * stride) - P;
    const int kx1 = ix0 + K > (ptrdiff_t)w ? (int)((ptrdiff_t)w - ix0) : K;
    blocks(dst + ox * c, base + (ptrdiff_t)(ox * stride * c), filter, scale, shift, K, c,
           row_stride, ky0, ky1, (int)-ix0, kx1, 1, stride);
  }
  for (; ox + 4 <= hi; ox += 4)
    blocks(dst + ox * c, base + (ptrdiff_t)(ox * stride * c), filter, scale, shift, K, c,
           row_stride, ky0, ky1, 0, K, 4, stride);
  for (; ox < hi; ++ox)
    blocks(dst + ox * c, base + (ptrdiff_t)(ox * stride * c), filter, scale, shift, K, c,
           row_stride, ky0, ky1, 0, K, 1, stride);
  for (; ox < ow; ++ox) {
    const ptrdiff_t ix0 = (ptrdiff_t)(ox * stride) - P;
    const int kx0 = ix0 < 0 ? (int)-ix0 : 0;
    blocks(dst + ox * c, base + (ptrdiff_t)(ox * stride * c), filter, scale, shift, K, c,
           row_stride, ky0, ky1, kx0, (int)((ptrdiff_t)w - ix0), 1, stride);
  }
  // Fewer channels than a block: one at a time.
  for (size_t c0 = 0; c < BLOCK && c0 < c; ++c0)
    for (size_t ox = 0; ox < ow; ++ox)
      dst[ox * c + c0] = epilogue(
          one(in, filter, K, h, w, c, iy0, (ptrdiff_t)(ox * stride) - P, c0), scale, shift, c0);
}

#define MEMREF(name)                                                                      \
  const float *name##_base, const float *name, size_t name##_offset, size_t name##_size, \
      size_t name##_stride
#define MEMREF_OUT(name) \
  float *name##_base, float *name, size_t name##_offset, size_t name##_size, size_t name##_stride

// The entry points are `protected`, not `default`: a default-visibility function of a shared
// object may be preempted, so the linker IREE runs (lld -shared) routes the dispatches' calls to it
// through the PLT, whose slots only a dynamic loader fills (R_*_JUMP_SLOT in .rel.plt, DT_JMPREL).
// IREE's embedded-ELF loader applies DT_JMPREL on x86_64 only: its arm_32 (and arm_64) loaders read
// DT_REL/DT_RELA alone (runtime/src/iree/hal/local/elf/arch/arm_32.c, 3.3.0-3.11.0), so on armv6 each
// call jumped through an unfilled slot and faulted. Protected symbols stay exported (the compile
// stage finds their names in the module) but are bound inside the object: direct `bl` calls.
// (IREE's own sample builds with -fvisibility=hidden and marks nothing, which binds them too.)
// in: [h][w][c] (unpadded), filter: [3][3][c], out: [oh][ow][c]; output rows
// [row_begin, row_begin + row_count) clipped to oh.
#define ENTRY(name, K, STRIDE)                                                                 \
  __attribute__((visibility("protected"))) void name(                                           \
      MEMREF(in), MEMREF(filter), MEMREF_OUT(out), size_t h, size_t w, size_t c, size_t oh, \
      size_t ow, size_t row_begin, size_t row_count) {                                        \
    (void)in_base, (void)in_size, (void)in_stride, (void)filter_base, (void)filter_size,     \
        (void)filter_stride, (void)out_base, (void)out_size, (void)out_stride;               \
    size_t row_end = row_begin + row_count;                                                   \
    if (row_end > oh) row_end = oh;                                                           \
    for (size_t oy = row_begin; oy < row_end; ++oy)                                           \
      row(in + in_offset, filter + filter_offset, 0, 0, out + out_offset, K, h, w, c, ow, oy, \
          STRIDE);                                                                            \
  }

// The same with the epilogue fused: scale [c], shift [c] (out = min(max(conv * scale + shift,
// 0), 6)): an inference BatchNorm and ReLU6 after the convolution.
#define ENTRY_BN_RELU6(name, STRIDE)                                                            \
  __attribute__((visibility("protected"))) void name(                                            \
      MEMREF(in), MEMREF(filter), MEMREF(scale), MEMREF(shift), MEMREF_OUT(out), size_t h,     \
      size_t w, size_t c, size_t oh, size_t ow, size_t row_begin, size_t row_count) {          \
    (void)in_base, (void)in_size, (void)in_stride, (void)filter_base, (void)filter_size,      \
        (void)filter_stride, (void)scale_base, (void)scale_size, (void)scale_stride,           \
        (void)shift_base, (void)shift_size, (void)shift_stride, (void)out_base,                \
        (void)out_size, (void)out_stride;                                                      \
    size_t row_end = row_begin + row_count;                                                    \
    if (row_end > oh) row_end = oh;                                                            \
    for (size_t oy = row_begin; oy < row_end; ++oy)                                            \
      row(in + in_offset, filter + filter_offset, scale + scale_offset, shift + shift_offset,  \
          out + out_offset, 3, h, w, c, ow, oy, STRIDE);                                       \
  }

ENTRY(depthwise3x3_s1_nhwc, 3, 1)
ENTRY(depthwise3x3_s2_nhwc, 3, 2)
// The same for a 5x5 window, padding 2 (MobileNetV3-small's): in [h][w][c], filter [5][5][c].
ENTRY(depthwise5x5_s1_nhwc, 5, 1)
ENTRY(depthwise5x5_s2_nhwc, 5, 2)
ENTRY_BN_RELU6(depthwise3x3_bn_relu6_s1_nhwc, 1)
ENTRY_BN_RELU6(depthwise3x3_bn_relu6_s2_nhwc, 2)

// ---------------------------------------------------------------------------------------------
// The stem: a full 3x3 convolution, stride 2, zero padding 1, with few input channels (an image's
// 3), reading the model's NCHW input directly (IREE's own lowering first transposes it to NHWC,
// a slow dispatch for 3 channels) and writing NHWC, BatchNorm and ReLU6 fused. Output channels in
// blocks of BLOCK, four output pixels at a time; the rest take the scalar loop.
//   in [cin][h][w], filter [3][3][cin][cout] (HWCF), scale/shift [cout], out [oh][ow][cout].

// `npix` pixels of output row oy from column ox; window columns kx0..kx1-1, rows ky0..ky1-1.
INLINE void stem_pixels(float *restrict dst, const float *restrict in, const float *restrict filter,
                        const vblock ep[2], size_t h, size_t w, size_t cin, size_t cout,
                        ptrdiff_t iy0, ptrdiff_t ix0, int ky0, int ky1, int kx0, int kx1,
                        const int npix, size_t co0) {
  vblock acc[4];
  for (int p = 0; p < npix; ++p) acc[p] = (vblock)0.0f;
  for (size_t ci = 0; ci < cin; ++ci)
    for (int ky = ky0; ky < ky1; ++ky) {
      const float *row = in + (ci * h + (size_t)(iy0 + ky)) * w;
      for (int kx = kx0; kx < kx1; ++kx) {
        vblock wt = LOAD(filter + ((size_t)(ky * 3 + kx) * cin + ci) * cout + co0);
        for (int p = 0; p < npix; ++p) acc[p] += row[ix0 + 2 * p + kx] * wt;
      }
    }
  const vblock zero = 0.0f, six = 6.0f;
  for (int p = 0; p < npix; ++p) {
    vblock v = acc[p] * ep[0] + ep[1];
    vint pos = v > zero;
    v = (vblock)(pos & (vint)v);
    vint big = six < v;
    STORE(dst + (size_t)p * cout, (vblock)((big & (vint)six) | (~big & (vint)v)));
  }
}

INLINE void stem_row(const float *restrict in, const float *restrict filter, const float *scale,
                     const float *shift, float *restrict out, size_t h, size_t w, size_t cin,
                     size_t cout, size_t ow, size_t oy) {
  const ptrdiff_t iy0 = (ptrdiff_t)(oy * 2) - 1;
  const int ky0 = iy0 < 0 ? 1 : 0;
  const int ky1 = iy0 + 3 > (ptrdiff_t)h ? (int)((ptrdiff_t)h - iy0) : 3;
  size_t inner_end = (w - 2) / 2 + 1;  // first ox whose window passes the right edge
  if (inner_end > ow) inner_end = ow;
  float *dst = out + oy * ow * cout;
  size_t co0 = 0;
  for (; co0 + BLOCK <= cout; co0 += BLOCK) {
    vblock ep[2] = {LOAD(scale + co0), LOAD(shift + co0)};
    stem_pixels(dst + co0, in, filter, ep, h, w, cin, cout, iy0, -1, ky0, ky1, 1, 3, 1, co0);
    size_t ox = 1;
    for (; ox + 4 <= inner_end; ox += 4)
      stem_pixels(dst + ox * cout + co0, in, filter, ep, h, w, cin, cout, iy0,
                  (ptrdiff_t)(2 * ox) - 1, ky0, ky1, 0, 3, 4, co0);
    for (; ox < ow; ++ox) {
      ptrdiff_t ix0 = (ptrdiff_t)(2 * ox) - 1;
      int kx1 = ix0 + 3 > (ptrdiff_t)w ? (int)((ptrdiff_t)w - ix0) : 3;
      stem_pixels(dst + ox * cout + co0, in, filter, ep, h, w, cin, cout, iy0, ix0, ky0, ky1, 0,
                  kx1, 1, co0);
    }
  }
  for (; co0 < cout; ++co0)
    for (size_t ox = 0; ox < ow; ++ox) {
      float acc = 0.0f;
      for (size_t ci = 0; ci < cin; ++ci)
        for (int ky = ky0; ky < ky1; ++ky)
          for (int kx = 0; kx < 3; ++kx) {
            ptrdiff_t ix = (ptrdiff_t)(2 * ox) - 1 + kx;
            if (ix < 0 || ix >= (ptrdiff_t)w) continue;
            acc += in[(ci * h + (size_t)(iy0 + ky)) * w + (size_t)ix] *
                   filter[((size_t)(ky * 3 + kx) * cin + ci) * cout + co0];
          }
      dst[ox * cout + co0] = epilogue(acc, scale, shift, co0);
    }
}

__attribute__((visibility("protected"))) void conv3x3_s2_bn_relu6_nchw_nhwc(
    MEMREF(in), MEMREF(filter), MEMREF(scale), MEMREF(shift), MEMREF_OUT(out), size_t h, size_t w,
    size_t cin, size_t cout, size_t oh, size_t ow, size_t row_begin, size_t row_count) {
  (void)in_base, (void)in_size, (void)in_stride, (void)filter_base, (void)filter_size,
      (void)filter_stride, (void)scale_base, (void)scale_size, (void)scale_stride,
      (void)shift_base, (void)shift_size, (void)shift_stride, (void)out_base, (void)out_size,
      (void)out_stride;
  size_t row_end = row_begin + row_count;
  if (row_end > oh) row_end = oh;
  for (size_t oy = row_begin; oy < row_end; ++oy)
    stem_row(in + in_offset, filter + filter_offset, scale + scale_offset, shift + shift_offset,
             out + out_offset, h, w, cin, cout, ow, oy);
}

#if defined(__arm__) && !defined(__ARM_FEATURE_IDIV)
// ARMv6 (the Pi Zero's ARM1176) has no divide instruction: clang calls the EABI helpers for the
// workgroup bands' divisions, and IREE links a kernel's object with no runtime library to bring them
// (`undefined symbol: __aeabi_uidiv`), so the kernel carries its own. Shift and subtract: a band is
// divided a few times per call, never per pixel.
unsigned long long __aeabi_uidivmod(unsigned n, unsigned d) {
  unsigned q = 0, r = 0;
  for (int bit = 31; bit >= 0; --bit) {
    r = (r << 1) | ((n >> bit) & 1u);
    if (r >= d) {
      r -= d;
      q |= 1u << bit;
    }
  }
  return ((unsigned long long)r << 32) | q;  // the EABI's {quotient, remainder}: r0, r1
}

unsigned __aeabi_uidiv(unsigned n, unsigned d) { return (unsigned)__aeabi_uidivmod(n, d); }
#endif
