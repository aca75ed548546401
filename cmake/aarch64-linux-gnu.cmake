# aarch64-linux-gnu.cmake: CMake toolchain file for cross-compiling hearth to
# 64-bit ARM Linux (Raspberry Pi 4/5 with a 64-bit OS, ARM laptops and
# servers) on a Debian/Ubuntu x86 host, against the arm64 builds of the
# libraries (Debian multiarch: dpkg --add-architecture arm64, then the :arm64
# packages `make deps-arm64` installs).
#
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DHEARTH_CROSS_CLANG=ON
#
# The first uses Debian's gcc-aarch64-linux-gnu; the second clang
# --target=aarch64-linux-gnu with the same cross binutils and libraries.
# ctest runs the test executables under qemu-aarch64 (qemu-user-static) when
# it is installed: CMAKE_CROSSCOMPILING_EMULATOR. QEMU_CPU picks the emulated
# CPU (default max: NEON, dotprod and i8mm).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(HEARTH_CROSS_TRIPLE aarch64-linux-gnu)

option(HEARTH_CROSS_CLANG "cross-compile with clang --target=aarch64-linux-gnu instead of gcc" OFF)
if(HEARTH_CROSS_CLANG)
  set(CMAKE_C_COMPILER clang)
  set(CMAKE_C_COMPILER_TARGET ${HEARTH_CROSS_TRIPLE})
else()
  set(CMAKE_C_COMPILER ${HEARTH_CROSS_TRIPLE}-gcc)
endif()

# Libraries and headers: the multiarch directories of the host plus the
# cross toolchain's own sysroot (libc for the cross compiler).
set(CMAKE_FIND_ROOT_PATH /usr/${HEARTH_CROSS_TRIPLE} /usr)
set(CMAKE_LIBRARY_ARCHITECTURE ${HEARTH_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config: only the arm64 .pc files. (Not again inside try_compile: the
# environment is the process's, and the shim lives in the top build tree.)
get_property(hearth_in_try GLOBAL PROPERTY IN_TRY_COMPILE)
if(NOT hearth_in_try)
set(hearth_pc_dirs /usr/lib/${HEARTH_CROSS_TRIPLE}/pkgconfig /usr/share/pkgconfig)
# libpq-dev is not multiarch in Debian 12 (installing :arm64 removes the
# host's), so the cross build uses the host's headers (the same on every
# 64-bit little-endian target) and the arm64 runtime library (libpq5:arm64),
# described by a .pc file written here.
if(NOT EXISTS /usr/lib/${HEARTH_CROSS_TRIPLE}/pkgconfig/libpq.pc AND
   EXISTS /usr/lib/${HEARTH_CROSS_TRIPLE}/libpq.so.5)
  set(hearth_pc_shim ${CMAKE_BINARY_DIR}/cross-pkgconfig)
  file(WRITE ${hearth_pc_shim}/libpq.pc
    "Name: libpq\nDescription: PostgreSQL client library (arm64 runtime, host headers)\nVersion: 15\n"
    "Cflags: -I/usr/include/postgresql\nLibs: -L${hearth_pc_shim} -lpq\n")
  file(CREATE_LINK /usr/lib/${HEARTH_CROSS_TRIPLE}/libpq.so.5 ${hearth_pc_shim}/libpq.so SYMBOLIC)
  list(APPEND hearth_pc_dirs ${hearth_pc_shim})
endif()
string(REPLACE ";" ":" hearth_pc_path "${hearth_pc_dirs}")
set(ENV{PKG_CONFIG_LIBDIR} "${hearth_pc_path}")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
endif()

# Run the tests under user-mode emulation. libc6:arm64 puts the dynamic
# loader where the binaries look for it; without it -L points qemu at the
# cross toolchain's copy.
find_program(HEARTH_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
if(HEARTH_QEMU_AARCH64)
  if(EXISTS /lib/ld-linux-aarch64.so.1)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${HEARTH_QEMU_AARCH64})
  else()
    set(CMAKE_CROSSCOMPILING_EMULATOR ${HEARTH_QEMU_AARCH64} -L /usr/${HEARTH_CROSS_TRIPLE})
  endif()
endif()
