// Depthwise 3x3 convolution, f32, NHWC (channels innermost), stride 1 or 2, for IREE's llvm-cpu
// custom dispatches (an object file linked into the executable; see spec.mlir).
//
// Freestanding: no libc, no headers but the compiler's own <stddef.h>. The channel loop works
// on blocks of BLOCK channels accumulated in a local array, so that clang vectorises it for the
// target it is given (-march/-mcpu): AVX-512, AVX2, NEON, or scalar code on a CPU without SIMD.
//
// ABI: each memref<?xf32> argument of the func.func that spec.mlir declares reaches C as five
// values (allocated pointer, aligned pointer, offset, size, stride); each index as a size_t.
#include <stddef.h>

#define BLOCK 16

#define MEMREF(name) \
  const float *name##_base, const float *name, size_t name##_offset, size_t name##_size, \
      size_t name##_stride
#define MEMREF_OUT(name) \
  float *name##_base, float *name, size_t name##_offset, size_t name##_size, size_t name##_stride

// One output row `oy` of a depthwise 3x3 convolution over a padded NHWC input.
//   in:     [hp][wp][c]  (already padded)
//   filter: [3][3][c]
//   out:    [oh][ow][c]
static inline __attribute__((always_inline)) void dw3x3_row(
    const float *restrict in, const float *restrict filter, float *restrict out, size_t wp,
    size_t c, size_t ow, size_t oy, size_t stride) {
  const size_t row_stride = wp * c;
  const float *rows = in + oy * stride * row_stride;
  float *dst = out + oy * ow * c;
  size_t c0 = 0;
  for (; c0 + BLOCK <= c; c0 += BLOCK) {
    float w[9][BLOCK];
    for (int k = 0; k < 9; ++k)
      for (int j = 0; j < BLOCK; ++j) w[k][j] = filter[k * c + c0 + j];
    for (size_t ox = 0; ox < ow; ++ox) {
      float acc[BLOCK];
      for (int j = 0; j < BLOCK; ++j) acc[j] = 0.0f;
      for (int ky = 0; ky < 3; ++ky) {
        const float *src = rows + ky * row_stride + ox * stride * c + c0;
        for (int kx = 0; kx < 3; ++kx)
          for (int j = 0; j < BLOCK; ++j) acc[j] += src[kx * c + j] * w[ky * 3 + kx][j];
      }
      for (int j = 0; j < BLOCK; ++j) dst[ox * c + c0 + j] = acc[j];
    }
  }
  // A channel tail (c not a multiple of BLOCK): plain scalar loop.
  for (; c0 < c; ++c0) {
    for (size_t ox = 0; ox < ow; ++ox) {
      float acc = 0.0f;
      for (int ky = 0; ky < 3; ++ky)
        for (int kx = 0; kx < 3; ++kx)
          acc += rows[ky * row_stride + (ox * stride + kx) * c + c0] * filter[(ky * 3 + kx) * c + c0];
      dst[ox * c + c0] = acc;
    }
  }
}

#define ENTRY(name, STRIDE)                                                                      \
  __attribute__((visibility("default"))) void name(                                             \
      MEMREF(in), MEMREF(filter), MEMREF_OUT(out), size_t hp, size_t wp, size_t c, size_t oh, \
      size_t ow, size_t row_begin, size_t row_count) {                                          \
    (void)in_base, (void)in_size, (void)in_stride, (void)filter_base, (void)filter_size,       \
        (void)filter_stride, (void)out_base, (void)out_size, (void)out_stride, (void)hp;       \
    size_t row_end = row_begin + row_count;                                                     \
    if (row_end > oh) row_end = oh;                                                             \
    for (size_t oy = row_begin; oy < row_end; ++oy)                                             \
      dw3x3_row(in + in_offset, filter + filter_offset, out + out_offset, wp, c, ow, oy,        \
                STRIDE);                                                                        \
  }

ENTRY(depthwise3x3_s1_nhwc_padded, 1)
ENTRY(depthwise3x3_s2_nhwc_padded, 2)
