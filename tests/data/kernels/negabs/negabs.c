// -|a * b|, for up to 64 elements of one workgroup. Freestanding: no libc, no headers but the
// compiler's own. Each memref argument arrives as five: base, aligned base, offset, size, stride
// (MLIR's memref descriptor, expanded by IREE's static import); the length is the output's size.
#include <stddef.h>

#ifndef NEGABS_BIAS
#define NEGABS_BIAS 0.0f
#endif

void negabs_workgroup(const float* restrict a_base, const float* restrict a, size_t a_offset,
                      size_t a_size, size_t a_stride, const float* restrict b_base,
                      const float* restrict b, size_t b_offset, size_t b_size, size_t b_stride,
                      float* restrict out_base, float* restrict out, size_t out_offset,
                      size_t out_size, size_t out_stride, size_t first) {
  size_t dim = out_size;
  size_t end = first + 64 < dim ? first + 64 : dim;
  for (size_t i = first; i < end; ++i) {
    float product = a[a_offset + i] * b[b_offset + i];
    out[out_offset + i] = (product < 0.0f ? product : -product) + NEGABS_BIAS;
  }
}
