// depthwise3x3 as a standalone executable plugin: the runtime loads it
// (--executable_plugin=embedded:depthwise3x3_plugin.so) and resolves from it the two functions the
// spec the tool writes imports (kernel.toml: torch_bn_relu6.c's depthwise3x3_bn_relu6_torch and
// stem_bn_relu6_torch), instead of the compiler linking an object into the module.
//
// IREE calls an import as int fn(void* params, void* context, void* reserved)
// (iree_hal_executable_import_v0_t, runtime/src/iree/hal/local/executable_library.h), `params`
// pointing to the call's arguments packed in a struct in the declaration's order, with the target's
// alignment (HALDispatchABI::wrapAndCallImport in IREE's compiler): each memref<Nxf32> as five fields
// (allocated pointer, aligned pointer, offset, size, stride), each index a size_t. Both functions take
// seven tensors (six inputs, the output), then sizes: seven for a depthwise block, eight for the stem.
// This file unpacks them into the C signature; nothing else differs from the embedded route.
#include "iree/hal/local/executable_plugin.h"

typedef struct {
  float *base, *data;
  size_t offset, size, stride;
} memref_t;

typedef struct {
  memref_t m[7];
  size_t s[8];  // a depthwise block's call packs seven: s[7] is never read for it
} params_t;

#define IN const float *, const float *, size_t, size_t, size_t
#define OUT float *, float *, size_t, size_t, size_t
#define M(i) p->m[i].base, p->m[i].data, p->m[i].offset, p->m[i].size, p->m[i].stride
#define TENSORS M(0), M(1), M(2), M(3), M(4), M(5), M(6)

// torch_bn_relu6.c's entries
void depthwise3x3_bn_relu6_torch(IN, IN, IN, IN, IN, IN, OUT, size_t, size_t, size_t, size_t, size_t, size_t,
                                 size_t);
void stem_bn_relu6_torch(IN, IN, IN, IN, IN, IN, OUT, size_t, size_t, size_t, size_t, size_t, size_t, size_t,
                         size_t);

static int import_depthwise(void* params, void* context, void* reserved) {
  const params_t* p = (const params_t*)params;  // h, w, c, oh, ow, workgroup id, workgroup count
  depthwise3x3_bn_relu6_torch(TENSORS, p->s[0], p->s[1], p->s[2], p->s[3], p->s[4], p->s[5], p->s[6]);
  return 0;
}

static int import_stem(void* params, void* context, void* reserved) {
  const params_t* p = (const params_t*)params;  // cin, h, w, oh, ow, cout, workgroup id, count
  stem_bn_relu6_torch(TENSORS, p->s[0], p->s[1], p->s[2], p->s[3], p->s[4], p->s[5], p->s[6], p->s[7]);
  return 0;
}

static const struct {
  const char* name;
  int (*fn)(void*, void*, void*);
} imports[] = {
    {"depthwise3x3_bn_relu6_torch", import_depthwise},
    {"stem_bn_relu6_torch", import_stem},
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
