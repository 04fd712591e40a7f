// -|a * b| for up to 64 elements of one workgroup, as a standalone executable plugin: the runtime
// loads it (--executable_plugin=embedded:negabs_plugin.so) and asks it, through
// iree_hal_executable_plugin_query, for the functions the module imports by name.
//
// An import is called as int fn(void* params, void* context, void* reserved) (IREE's
// iree_hal_executable_import_v0_t, runtime/src/iree/hal/local/executable_library.h): `params`
// points to the call's arguments packed in a struct with the target's alignment, each memref
// argument as five fields (base, aligned base, offset, size, stride). 0 is success.
#include "iree/hal/local/executable_plugin.h"

#ifndef NEGABS_BIAS
#define NEGABS_BIAS 0.0f
#endif

typedef struct {
  const float* a_base;
  const float* a;
  size_t a_offset, a_size, a_stride;
  const float* b_base;
  const float* b;
  size_t b_offset, b_size, b_stride;
  float* out_base;
  float* out;
  size_t out_offset, out_size, out_stride;
  size_t first;  // the workgroup's first element
} negabs_params_t;

static int negabs_workgroup(void* params_ptr, void* context, void* reserved) {
  const negabs_params_t* p = (const negabs_params_t*)params_ptr;
  size_t end = p->first + 64 < p->out_size ? p->first + 64 : p->out_size;
  for (size_t i = p->first; i < end; ++i) {
    float product = p->a[p->a_offset + i] * p->b[p->b_offset + i];
    p->out[p->out_offset + i] = (product < 0.0f ? product : -product) + NEGABS_BIAS;
  }
  return 0;
}

static iree_hal_executable_plugin_status_t negabs_load(
    const iree_hal_executable_plugin_environment_v0_t* environment, size_t param_count,
    const iree_hal_executable_plugin_string_pair_t* params, void** out_self) {
  *out_self = NULL;  // stateless
  return iree_hal_executable_plugin_ok_status();
}

static void negabs_unload(void* self) {}

// Fills each import the module asks for that this plugin has; a required one it lacks is NOT_FOUND.
static iree_hal_executable_plugin_status_t negabs_resolve(
    void* self, const iree_hal_executable_plugin_resolve_params_v0_t* params,
    iree_hal_executable_plugin_resolution_t* out_resolution) {
  *out_resolution = 0;
  bool missing = false;
  for (size_t i = 0; i < params->count; ++i) {
    if (params->out_fn_ptrs[i]) continue;
    const char* name = params->symbol_names[i];
    bool optional = iree_hal_executable_plugin_import_is_optional(name);
    if (optional) ++name;
    if (iree_hal_executable_plugin_strcmp(name, "negabs_workgroup") == 0) {
      params->out_fn_ptrs[i] = negabs_workgroup;
      params->out_fn_contexts[i] = NULL;
    } else if (optional) {
      *out_resolution |= IREE_HAL_EXECUTABLE_PLUGIN_RESOLUTION_MISSING_OPTIONAL;
    } else {
      missing = true;
    }
  }
  return missing ? iree_hal_executable_plugin_status_from_code(IREE_HAL_EXECUTABLE_PLUGIN_STATUS_NOT_FOUND)
                 : iree_hal_executable_plugin_ok_status();
}

// The one exported symbol: the runtime looks it up by this name.
IREE_HAL_EXECUTABLE_PLUGIN_EXPORT const iree_hal_executable_plugin_header_t** iree_hal_executable_plugin_query(
    iree_hal_executable_plugin_version_t max_version, void* reserved) {
  static const iree_hal_executable_plugin_header_t header = {
      .version = IREE_HAL_EXECUTABLE_PLUGIN_VERSION_LATEST,
      .name = "negabs_plugin",
      .description = "iree-matrix's test kernel (tests/data/kernels/negabs_plugin)",
      .features = IREE_HAL_EXECUTABLE_PLUGIN_FEATURE_STANDALONE,
      .sanitizer = IREE_HAL_EXECUTABLE_PLUGIN_SANITIZER_NONE,
  };
  static const iree_hal_executable_plugin_v0_t plugin = {
      .header = &header,
      .load = negabs_load,
      .unload = negabs_unload,
      .resolve = negabs_resolve,
  };
  return max_version <= IREE_HAL_EXECUTABLE_PLUGIN_VERSION_LATEST
             ? (const iree_hal_executable_plugin_header_t**)&plugin
             : NULL;
}
