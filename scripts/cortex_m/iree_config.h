/* Force-included (-include) into every C file of IREE's runtime built for a bare-metal Cortex-M
 * (src/iree_matrix/source_builds/cortex_m.py): no OS, no threads, no files. The settings follow IREE's bare-metal
 * guide (https://iree.dev/guides/deployment-configurations/bare-metal/) and the compile
 * definitions of github:iree-org/iree-bare-metal-arm (CMakeLists.txt). */
#ifndef IREE_MATRIX_CORTEX_M_CONFIG_H_
#define IREE_MATRIX_CORTEX_M_CONFIG_H_
#include <stdbool.h>
#include <inttypes.h> /* PRIu64 and friends, which IREE uses without including it */
#include <stdint.h>
/* Debian's newlib defines the 64-bit PRI macros only when its own <stdint.h> set __int64_t_defined,
 * which GCC's <stdint.h> does not: int64_t is long long on every Arm EABI target. */
#ifndef PRIu64
#define PRId64 "lld"
#define PRIi64 "lli"
#define PRIu64 "llu"
#define PRIx64 "llx"
#define PRIX64 "llX"
#endif
#define IREE_PLATFORM_GENERIC 1
#define IREE_SYNCHRONIZATION_DISABLE_UNSAFE 1 /* one thread: no locks */
#define IREE_FILE_IO_ENABLE 0
#define FLATCC_USE_GENERIC_ALIGNED_ALLOC 1
/* No clock the runtime needs: time stands still, and a wait returns at once (the firmware). */
#define IREE_TIME_NOW_FN return 0;
#define IREE_WAIT_UNTIL_FN iree_matrix_wait_until
bool iree_matrix_wait_until(int64_t deadline_ns);
#endif
