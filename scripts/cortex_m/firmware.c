/* A bare-metal firmware that runs one IREE module on a Cortex-M under qemu-system-arm and prints
 * its outputs over semihosting (src/iree_matrix/source_builds/cortex_m.py builds and reads it; docs/cortex-m.md).
 *
 * The module's kernels are a static library linked in (iree-compile --iree-llvmcpu-link-static),
 * its VM bytecode and the example inputs are constants in flash (model_data.c, generated), the HAL
 * is local-sync (no threads) with the static library loader, and every allocation goes through
 * newlib's malloc, whose sbrk here records the heap's high-water mark. The setup follows IREE's
 * static_library sample and bare-metal guide
 * (https://iree.dev/guides/deployment-configurations/bare-metal/); the API differences between
 * releases are chosen by IREE_MATRIX_HAL_MODULE_API / IREE_MATRIX_BYTECODE_FLAGS, which
 * cortex_m.py reads off the release's own headers.
 *
 * Output lines (one semihosting write each):
 *   OUTPUT <index> <element type, hex> <rank> <dims...>
 *   DATA <hex bytes>                 the output's bytes, in order, several lines
 *   HEAP_AT <step> <bytes>           the heap in use after a step (instance, device, context, inputs)
 *   HEAP_PEAK <bytes>                sbrk's high-water mark
 *   STACK_PEAK <bytes>               deepest stack use (the stack is painted at reset)
 *   IREE_MATRIX_OK | IREE_MATRIX_FAIL <IREE's status text>
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "iree/base/api.h"
#include "iree/hal/api.h"
#include "iree/hal/drivers/local_sync/sync_device.h"
#include "iree/hal/local/executable_library.h"
#include "iree/hal/local/loaders/static_library_loader.h"
#include "iree/modules/hal/module.h"
#include "iree/vm/api.h"
#include "iree/vm/bytecode/module.h"

#include "model_data.h"

/* ---- semihosting (Arm's "Semihosting for AArch32 and AArch64", SYS_WRITE0 and SYS_EXIT) ---- */

static int semihost(int op, void* arg) {
  register int r0 __asm__("r0") = op;
  register void* r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

static void put_line(const char* text) {
  char line[256];
  size_t n = strlen(text);
  while (n > 0) {
    size_t chunk = n < sizeof(line) - 2 ? n : sizeof(line) - 2;
    memcpy(line, text, chunk);
    line[chunk] = 0;
    semihost(0x04, line); /* SYS_WRITE0 */
    text += chunk;
    n -= chunk;
  }
  semihost(0x04, "\n");
}

static void __attribute__((noreturn)) stop(int ok) {
  /* ADP_Stopped_ApplicationExit: qemu exits 0; ADP_Stopped_RunTimeErrorUnknown: qemu exits 1. */
  semihost(0x18, (void*)(ok ? 0x20026 : 0x20023));
  for (;;) {
  }
}

/* ---- newlib's system calls: a heap between the end of .bss and the stack ---- */

extern char __heap_start[], __heap_end[], __stack_bottom[], __stack_top[];
static char* heap_top = __heap_start;
static char* heap_peak = __heap_start;

void* _sbrk(ptrdiff_t increment) {
  if (heap_top + increment > __heap_end) {
    errno = ENOMEM;
    return (void*)-1;
  }
  char* previous = heap_top;
  heap_top += increment;
  if (heap_top > heap_peak) heap_peak = heap_top;
  return previous;
}
int _write(int fd, const char* data, int length) {
  (void)fd;
  char line[129];
  int done = 0;
  while (done < length) {
    int chunk = length - done < 128 ? length - done : 128;
    memcpy(line, data + done, chunk);
    line[chunk] = 0;
    semihost(0x04, line);
    done += chunk;
  }
  return length;
}
int _read(int fd, char* data, int length) { return 0; }
int _close(int fd) { return -1; }
int _lseek(int fd, int offset, int whence) { return 0; }
int _fstat(int fd, struct stat* st) {
  st->st_mode = S_IFCHR;
  return 0;
}
int _isatty(int fd) { return 1; }
int _getpid(void) { return 1; }
int _kill(int pid, int sig) { return -1; }
void _exit(int code) { stop(code == 0); }

/* IREE's libc allocator asks for aligned blocks; newlib-nano has memalign but no posix_memalign. */
void* memalign(size_t alignment, size_t size);
__attribute__((weak)) int posix_memalign(void** out, size_t alignment, size_t size) {
  void* block = memalign(alignment, size);
  if (block == NULL) return ENOMEM;
  *out = block;
  return 0;
}

/* IREE_WAIT_UNTIL_FN (iree_config.h): nothing else runs, so a wait is over at once. */
bool iree_matrix_wait_until(int64_t deadline_ns) {
  (void)deadline_ns;
  return true;
}

/* ---- reset, faults and the vector table ---- */

#define STACK_PAINT 0xC0FFEE11u

int main(void);

void Reset_Handler(void) {
  extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
  /* CPACR: full access to CP10/CP11, the FPU (the kernels are hard-float code). */
  *(volatile uint32_t*)0xE000ED88 |= (0xFu << 20);
  __asm__ volatile("dsb\n isb");
  for (uint32_t *src = __data_load, *dst = __data_start; dst < __data_end;) *dst++ = *src++;
  for (uint32_t* dst = __bss_start; dst < __bss_end;) *dst++ = 0;
  /* Paint the stack below the current frame to measure its deepest use. */
  uint32_t* sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  for (uint32_t* p = (uint32_t*)__stack_bottom; p < sp - 16; ++p) *p = STACK_PAINT;
  stop(main() == 0);
}

static void fault(const char* what) {
  put_line(what);
  put_line("IREE_MATRIX_FAIL the CPU faulted (an instruction or access this Cortex-M does not have)");
  stop(0);
}
void HardFault_Handler(void) { fault("FAULT HardFault"); }
void MemManage_Handler(void) { fault("FAULT MemManage"); }
void BusFault_Handler(void) { fault("FAULT BusFault"); }
void UsageFault_Handler(void) { fault("FAULT UsageFault"); }
void Default_Handler(void) { fault("FAULT unexpected interrupt"); }

__attribute__((section(".isr_vector"), used)) void (*const vector_table[16])(void) = {
    (void (*)(void))__stack_top, Reset_Handler,      Default_Handler,  HardFault_Handler,
    MemManage_Handler,           BusFault_Handler,   UsageFault_Handler, 0,
    0,                           0,                  0,                Default_Handler,
    Default_Handler,             0,                  Default_Handler,  Default_Handler,
};

/* ---- the model ---- */

/* Where the heap stands after each step: the runtime's own cost before the model's. */
static void mark(const char* step) {
  char line[96];
  snprintf(line, sizeof(line), "HEAP_AT %s %lu", step, (unsigned long)(heap_top - __heap_start));
  put_line(line);
}

static void print_buffer_view(iree_host_size_t index, iree_hal_buffer_view_t* view, uint8_t* scratch,
                              iree_host_size_t scratch_size, iree_status_t* status) {
  char line[256];
  iree_host_size_t rank = iree_hal_buffer_view_shape_rank(view);
  int n = snprintf(line, sizeof(line), "OUTPUT %u %08lx %u", (unsigned)index,
                   (unsigned long)iree_hal_buffer_view_element_type(view), (unsigned)rank);
  for (iree_host_size_t i = 0; i < rank && n < (int)sizeof(line) - 16; ++i) {
    n += snprintf(line + n, sizeof(line) - n, " %lu", (unsigned long)iree_hal_buffer_view_shape_dim(view, i));
  }
  put_line(line);
  iree_device_size_t length = iree_hal_buffer_view_byte_length(view);
  for (iree_device_size_t offset = 0; offset < length && iree_status_is_ok(*status);) {
    iree_device_size_t chunk = length - offset < scratch_size ? length - offset : scratch_size;
    *status = iree_hal_buffer_map_read(iree_hal_buffer_view_buffer(view), offset, scratch, chunk);
    for (iree_device_size_t i = 0; i < chunk && iree_status_is_ok(*status); i += 64) {
      char* p = line + sprintf(line, "DATA ");
      for (iree_device_size_t j = i; j < chunk && j < i + 64; ++j) p += sprintf(p, "%02x", scratch[j]);
      put_line(line);
    }
    offset += chunk;
  }
}

static iree_status_t run(void) {
  iree_allocator_t host = iree_allocator_system();
  iree_vm_instance_t* instance = NULL;
  IREE_RETURN_IF_ERROR(iree_vm_instance_create(IREE_VM_TYPE_CAPACITY_DEFAULT, host, &instance));
  IREE_RETURN_IF_ERROR(iree_hal_module_register_all_types(instance));
  mark("instance");

  iree_hal_executable_loader_t* loader = NULL;
  IREE_RETURN_IF_ERROR(iree_hal_static_library_loader_create(
      iree_matrix_library_count, iree_matrix_libraries, iree_hal_executable_import_provider_null(), host,
      &loader));
  iree_hal_allocator_t* device_allocator = NULL;
  IREE_RETURN_IF_ERROR(iree_hal_allocator_create_heap(iree_make_cstring_view("local"), host, host,
                                                      &device_allocator));
  iree_hal_sync_device_params_t params;
  iree_hal_sync_device_params_initialize(&params);
  iree_hal_device_t* device = NULL;
  IREE_RETURN_IF_ERROR(iree_hal_sync_device_create(iree_make_cstring_view("local-sync"), &params, 1, &loader,
                                                   device_allocator, host, &device));
  mark("device");

  iree_vm_module_t* hal_module = NULL;
#if IREE_MATRIX_HAL_MODULE_API == 3
  iree_hal_device_group_t* group = NULL;
  IREE_RETURN_IF_ERROR(iree_hal_device_group_create_from_device(device, host, &group));
  IREE_RETURN_IF_ERROR(iree_hal_module_create(instance, iree_hal_module_device_policy_default(), group,
                                              IREE_HAL_MODULE_FLAG_SYNCHRONOUS,
                                              iree_hal_module_debug_sink_null(), host, &hal_module));
#elif IREE_MATRIX_HAL_MODULE_API == 2
  IREE_RETURN_IF_ERROR(iree_hal_module_create(instance, iree_hal_module_device_policy_default(), 1, &device,
                                              IREE_HAL_MODULE_FLAG_SYNCHRONOUS,
                                              iree_hal_module_debug_sink_null(), host, &hal_module));
#else
  IREE_RETURN_IF_ERROR(iree_hal_module_create(instance, 1, &device, IREE_HAL_MODULE_FLAG_SYNCHRONOUS,
                                              iree_hal_module_debug_sink_null(), host, &hal_module));
#endif

  iree_const_byte_span_t bytecode = iree_make_const_byte_span(iree_matrix_vmfb, iree_matrix_vmfb_size);
  iree_vm_module_t* bytecode_module = NULL;
#if IREE_MATRIX_BYTECODE_FLAGS
  IREE_RETURN_IF_ERROR(iree_vm_bytecode_module_create(instance, IREE_VM_BYTECODE_MODULE_FLAG_NONE, bytecode,
                                                      iree_allocator_null(), host, &bytecode_module));
#else
  IREE_RETURN_IF_ERROR(
      iree_vm_bytecode_module_create(instance, bytecode, iree_allocator_null(), host, &bytecode_module));
#endif

  iree_vm_module_t* modules[2] = {hal_module, bytecode_module};
  iree_vm_context_t* context = NULL;
  IREE_RETURN_IF_ERROR(
      iree_vm_context_create_with_modules(instance, IREE_VM_CONTEXT_FLAG_NONE, 2, modules, host, &context));
  mark("context");
  iree_vm_function_t function;
  IREE_RETURN_IF_ERROR(
      iree_vm_context_resolve_function(context, iree_make_cstring_view(iree_matrix_function), &function));

  iree_vm_list_t* inputs = NULL;
  IREE_RETURN_IF_ERROR(
      iree_vm_list_create(iree_vm_make_undefined_type_def(), iree_matrix_input_count, host, &inputs));
  for (iree_host_size_t i = 0; i < iree_matrix_input_count; ++i) {
    const iree_matrix_tensor_t* t = &iree_matrix_inputs[i];
    iree_hal_dim_t shape[8];
    for (iree_host_size_t d = 0; d < t->rank; ++d) shape[d] = (iree_hal_dim_t)t->shape[d];
    iree_hal_buffer_params_t buffer_params = {0};
    buffer_params.type = IREE_HAL_MEMORY_TYPE_DEVICE_LOCAL;
    buffer_params.usage = IREE_HAL_BUFFER_USAGE_DEFAULT;
    iree_hal_buffer_view_t* view = NULL;
    IREE_RETURN_IF_ERROR(iree_hal_buffer_view_allocate_buffer_copy(
        device, iree_hal_device_allocator(device), t->rank, shape, (iree_hal_element_type_t)t->element_type,
        IREE_HAL_ENCODING_TYPE_DENSE_ROW_MAJOR, buffer_params, iree_make_const_byte_span(t->data, t->bytes),
        &view));
    iree_vm_ref_t ref = iree_hal_buffer_view_move_ref(view);
    IREE_RETURN_IF_ERROR(iree_vm_list_push_ref_move(inputs, &ref));
  }
  iree_vm_list_t* outputs = NULL;
  IREE_RETURN_IF_ERROR(iree_vm_list_create(iree_vm_make_undefined_type_def(), 4, host, &outputs));

  mark("inputs");
  put_line("INVOKE");
  IREE_RETURN_IF_ERROR(
      iree_vm_invoke(context, function, IREE_VM_INVOCATION_FLAG_NONE, NULL, inputs, outputs, host));

  static uint8_t scratch[1024];
  iree_status_t status = iree_ok_status();
  for (iree_host_size_t i = 0; i < iree_vm_list_size(outputs) && iree_status_is_ok(status); ++i) {
    iree_hal_buffer_view_t* view = iree_vm_list_get_buffer_view_assign(outputs, i);
    if (view == NULL) return iree_make_status(IREE_STATUS_INVALID_ARGUMENT, "output %u is not a tensor", (unsigned)i);
    print_buffer_view(i, view, scratch, sizeof(scratch), &status);
  }
  /* Nothing is released: the firmware stops here, and the peak is what a board must have. */
  return status;
}

int main(void) {
  put_line("BOOT");
  iree_status_t status = run();
  char line[64];
  snprintf(line, sizeof(line), "HEAP_PEAK %lu", (unsigned long)(heap_peak - __heap_start));
  put_line(line);
  uint32_t* p = (uint32_t*)__stack_bottom;
  while (p < (uint32_t*)__stack_top && *p == STACK_PAINT) ++p;
  snprintf(line, sizeof(line), "STACK_PEAK %lu", (unsigned long)((char*)__stack_top - (char*)p));
  put_line(line);
  if (iree_status_is_ok(status)) {
    put_line("IREE_MATRIX_OK");
    return 0;
  }
  static char message[1024];
  iree_host_size_t length = 0;
  strcpy(message, "IREE_MATRIX_FAIL ");
  if (!iree_status_format(status, sizeof(message) - 18, message + 17, &length)) {
    snprintf(message + 17, sizeof(message) - 17, "%s", iree_status_code_string(iree_status_code(status)));
  }
  put_line(message);
  return 1;
}
