// depthwise3x3 (../depthwise3x3/depthwise3x3.c, the same source) as a standalone executable plugin:
// the runtime loads it (--executable_plugin=embedded:depthwise3x3_plugin.so) and resolves the seven
// imports the spec declares from it, instead of the compiler linking the object into the module.
//
// IREE calls an import as int fn(void* params, void* context, void* reserved)
// (iree_hal_executable_import_v0_t, runtime/src/iree/hal/local/executable_library.h), `params`
// pointing to its arguments packed with the target's alignment: each memref<?xf32> as five fields
// (allocated pointer, aligned pointer, offset, size, stride), each index as a size_t. This file
// unpacks them into the kernel's own C signature; nothing else differs from the embedded route.
#include "iree/hal/local/executable_plugin.h"

typedef struct {
  float* base;
  float* data;
  size_t offset, size, stride;
} memref_t;

#define ARGS(m) (m).base, (m).data, (m).offset, (m).size, (m).stride
#define MEMREF_ARG const float*, const float*, size_t, size_t, size_t
#define MEMREF_OUT_ARG float*, float*, size_t, size_t, size_t

// The kernel's entry points (depthwise3x3.c).
void depthwise3x3_s1_nhwc(MEMREF_ARG, MEMREF_ARG, MEMREF_OUT_ARG, size_t, size_t, size_t, size_t,
                          size_t, size_t, size_t);
void depthwise3x3_s2_nhwc(MEMREF_ARG, MEMREF_ARG, MEMREF_OUT_ARG, size_t, size_t, size_t, size_t,
                          size_t, size_t, size_t);
void depthwise5x5_s1_nhwc(MEMREF_ARG, MEMREF_ARG, MEMREF_OUT_ARG, size_t, size_t, size_t, size_t,
                          size_t, size_t, size_t);
void depthwise5x5_s2_nhwc(MEMREF_ARG, MEMREF_ARG, MEMREF_OUT_ARG, size_t, size_t, size_t, size_t,
                          size_t, size_t, size_t);
void depthwise3x3_bn_relu6_s1_nhwc(MEMREF_ARG, MEMREF_ARG, MEMREF_ARG, MEMREF_ARG, MEMREF_OUT_ARG,
                                   size_t, size_t, size_t, size_t, size_t, size_t, size_t);
void depthwise3x3_bn_relu6_s2_nhwc(MEMREF_ARG, MEMREF_ARG, MEMREF_ARG, MEMREF_ARG, MEMREF_OUT_ARG,
                                   size_t, size_t, size_t, size_t, size_t, size_t, size_t);
void conv3x3_s2_bn_relu6_nchw_nhwc(MEMREF_ARG, MEMREF_ARG, MEMREF_ARG, MEMREF_ARG, MEMREF_OUT_ARG,
                                   size_t, size_t, size_t, size_t, size_t, size_t, size_t, size_t);

typedef struct {
  memref_t in, filter, out;
  size_t h, w, c, oh, ow, row_begin, row_count;
} dw_params_t;

typedef struct {
  memref_t in, filter, scale, shift, out;
  size_t h, w, c, oh, ow, row_begin, row_count;
} dw_bn_params_t;

typedef struct {
  memref_t in, filter, scale, shift, out;
  size_t h, w, cin, cout, oh, ow, row_begin, row_count;
} stem_params_t;

#define DW(import, kernel)                                                                   \
  static int import(void* params, void* context, void* reserved) {                          \
    const dw_params_t* p = (const dw_params_t*)params;                                      \
    kernel(ARGS(p->in), ARGS(p->filter), ARGS(p->out), p->h, p->w, p->c, p->oh, p->ow,      \
           p->row_begin, p->row_count);                                                     \
    return 0;                                                                               \
  }
#define DW_BN(import, kernel)                                                                 \
  static int import(void* params, void* context, void* reserved) {                           \
    const dw_bn_params_t* p = (const dw_bn_params_t*)params;                                 \
    kernel(ARGS(p->in), ARGS(p->filter), ARGS(p->scale), ARGS(p->shift), ARGS(p->out), p->h, \
           p->w, p->c, p->oh, p->ow, p->row_begin, p->row_count);                            \
    return 0;                                                                                \
  }

DW(import_s1, depthwise3x3_s1_nhwc)
DW(import_s2, depthwise3x3_s2_nhwc)
DW(import_k5_s1, depthwise5x5_s1_nhwc)
DW(import_k5_s2, depthwise5x5_s2_nhwc)
DW_BN(import_bn_s1, depthwise3x3_bn_relu6_s1_nhwc)
DW_BN(import_bn_s2, depthwise3x3_bn_relu6_s2_nhwc)

static int import_stem(void* params, void* context, void* reserved) {
  const stem_params_t* p = (const stem_params_t*)params;
  conv3x3_s2_bn_relu6_nchw_nhwc(ARGS(p->in), ARGS(p->filter), ARGS(p->scale), ARGS(p->shift),
                                ARGS(p->out), p->h, p->w, p->cin, p->cout, p->oh, p->ow,
                                p->row_begin, p->row_count);
  return 0;
}

static const struct {
  const char* name;
  int (*fn)(void*, void*, void*);
} imports[] = {
    {"depthwise3x3_s1_nhwc", import_s1},
    {"depthwise3x3_s2_nhwc", import_s2},
    {"depthwise5x5_s1_nhwc", import_k5_s1},
    {"depthwise5x5_s2_nhwc", import_k5_s2},
    {"depthwise3x3_bn_relu6_s1_nhwc", import_bn_s1},
    {"depthwise3x3_bn_relu6_s2_nhwc", import_bn_s2},
    {"conv3x3_s2_bn_relu6_nchw_nhwc", import_stem},
};

static iree_hal_executable_plugin_status_t plugin_load(
    const iree_hal_executable_plugin_environment_v0_t* environment, size_t param_count,
    const iree_hal_executable_plugin_string_pair_t* params, void** out_self) {
  *out_self = NULL;  // stateless
  return iree_hal_executable_plugin_ok_status();
}

static void plugin_unload(void* self) {}

static iree_hal_executable_plugin_status_t plugin_resolve(
    void* self, const iree_hal_executable_plugin_resolve_params_v0_t* params,
    iree_hal_executable_plugin_resolution_t* out_resolution) {
  *out_resolution = 0;
  bool missing = false;
  for (size_t i = 0; i < params->count; ++i) {
    if (params->out_fn_ptrs[i]) continue;
    const char* name = params->symbol_names[i];
    bool optional = iree_hal_executable_plugin_import_is_optional(name);
    if (optional) ++name;
    bool found = false;
    for (size_t j = 0; j < sizeof(imports) / sizeof(imports[0]); ++j) {
      if (iree_hal_executable_plugin_strcmp(name, imports[j].name) == 0) {
        params->out_fn_ptrs[i] = imports[j].fn;
        params->out_fn_contexts[i] = NULL;
        found = true;
        break;
      }
    }
    if (found) continue;
    if (optional) {
      *out_resolution |= IREE_HAL_EXECUTABLE_PLUGIN_RESOLUTION_MISSING_OPTIONAL;
    } else {
      missing = true;
    }
  }
  return missing ? iree_hal_executable_plugin_status_from_code(IREE_HAL_EXECUTABLE_PLUGIN_STATUS_NOT_FOUND)
                 : iree_hal_executable_plugin_ok_status();
}

IREE_HAL_EXECUTABLE_PLUGIN_EXPORT const iree_hal_executable_plugin_header_t** iree_hal_executable_plugin_query(
    iree_hal_executable_plugin_version_t max_version, void* reserved) {
  static const iree_hal_executable_plugin_header_t header = {
      .version = IREE_HAL_EXECUTABLE_PLUGIN_VERSION_LATEST,
      .name = "depthwise3x3_plugin",
      .description = "iree-matrix's depthwise 3x3 kernel (kernels/depthwise3x3_plugin)",
      .features = IREE_HAL_EXECUTABLE_PLUGIN_FEATURE_STANDALONE,
      .sanitizer = IREE_HAL_EXECUTABLE_PLUGIN_SANITIZER_NONE,
  };
  static const iree_hal_executable_plugin_v0_t plugin = {
      .header = &header,
      .load = plugin_load,
      .unload = plugin_unload,
      .resolve = plugin_resolve,
  };
  return max_version <= IREE_HAL_EXECUTABLE_PLUGIN_VERSION_LATEST
             ? (const iree_hal_executable_plugin_header_t**)&plugin
             : NULL;
}
