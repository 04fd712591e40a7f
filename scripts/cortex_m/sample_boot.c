/* What IREE's own samples/static_library needs to run bare-metal on qemu's mps2-an386 (Cortex-M4F)
 * beside the runtime this project builds (docs/cortex-m.md, "A size anchor"): a two-word vector
 * table at 0x0, a reset handler that turns the FPU on and enters newlib's crt0 (rdimon.specs:
 * semihosting for printf and exit), and the two functions firmware.c otherwise provides. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern void _start(void);

__attribute__((naked, noreturn)) void reset_handler(void) {
  __asm volatile(
      "ldr r0, =0xE000ED88\n"      /* CPACR */
      "ldr r1, [r0]\n"
      "orr r1, r1, #(0xF << 20)\n" /* CP10, CP11: full access */
      "str r1, [r0]\n"
      "dsb\n"
      "isb\n"
      "b _start\n");
}

/* Initial stack: the top of the AN386's 4 MiB data SRAM (crt0 then takes it from SYS_HEAPINFO). Linked
 * with -Wl,-u,sample_vectors -Wl,--section-start=.vectors=0x0. */
__attribute__((section(".vectors"), used)) const uint32_t sample_vectors[2] = {
    0x20400000u, (uint32_t)&reset_handler};

/* IREE's libc allocator asks for aligned blocks; newlib-nano has memalign but no posix_memalign. */
void* memalign(size_t alignment, size_t size);
int posix_memalign(void** out, size_t alignment, size_t size) {
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
