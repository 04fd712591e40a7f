# CMake toolchain for IREE's runtime on a bare-metal Cortex-M with Debian's arm-none-eabi-gcc and
# newlib. The CPU flags come from the caller (-DIREE_MATRIX_MCU_FLAGS=...), so one file serves every
# Cortex-M the matrix knows (src/iree_matrix/source_builds/cortex_m.py). Written for this project after the
# options of IREE's bare-metal guide (https://iree.dev/guides/deployment-configurations/bare-metal/)
# and the CMake setup of github:iree-org/iree-bare-metal-arm (build_tools/cmake/arm-none-eabi-gcc.cmake).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_AR arm-none-eabi-ar)
set(CMAKE_RANLIB arm-none-eabi-ranlib)
# No OS to link a test program against: cmake's compiler checks build a static library instead.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(_mcu "${IREE_MATRIX_MCU_FLAGS}")
set(CMAKE_C_FLAGS_INIT "${_mcu} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "${_mcu} -ffunction-sections -fdata-sections")
set(CMAKE_ASM_FLAGS_INIT "${_mcu}")
