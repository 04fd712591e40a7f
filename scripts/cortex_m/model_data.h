/* What src/iree_matrix/source_builds/cortex_m.py generates per module (model_data.c): the VM bytecode, the
 * kernels' library query functions (from iree-compile's static-library header), the entry point
 * and the example inputs, all constants in flash. */
#ifndef IREE_MATRIX_MODEL_DATA_H_
#define IREE_MATRIX_MODEL_DATA_H_
#include <stddef.h>
#include <stdint.h>

#include "iree/hal/local/executable_library.h"

typedef struct iree_matrix_tensor_t {
  uint32_t element_type; /* iree_hal_element_type_t */
  uint32_t rank;
  const int32_t* shape;
  const uint8_t* data;
  uint32_t bytes;
} iree_matrix_tensor_t;

extern const uint8_t iree_matrix_vmfb[];
extern const size_t iree_matrix_vmfb_size;
extern const iree_hal_executable_library_query_fn_t iree_matrix_libraries[];
extern const size_t iree_matrix_library_count;
extern const char iree_matrix_function[];
extern const iree_matrix_tensor_t iree_matrix_inputs[];
extern const size_t iree_matrix_input_count;
#endif
