# tests.cmake: registers every test with ctest.
#  - tests/<sub>/test_<name>.c  -> executable <sub>_<name>; other .c files in
#    tests/<sub>/ are helpers linked into each test of that directory, and
#    tests/*.c into every test.
#  - tests/<sub>/test_<name>.sh -> run with bash.
#  - tests/fuzz/fuzz_<name>.c   -> with HEARTH_FUZZ, a libFuzzer target and a
#    test that runs it for HEARTH_FUZZ_SECONDS over tests/fuzz/corpus/<name>.
# A test that can not run here exits 77 (SKIP_RETURN_CODE): ctest shows it
# as skipped, never as passed.
# Every test sees these environment variables: HEARTH_BIN (the hearth binary),
# HEARTH_GENMODEL, HEARTH_SOURCE_DIR, HEARTH_SHARED_DIR, HEARTH_BUILD_DIR.
# Cross builds (tests run under an emulator) take a host build's
# hearth-genmodel: GGUF files are the same on every architecture, and the
# tests start it through /bin/sh, which is the host's.
set(HEARTH_HOST_GENMODEL "" CACHE FILEPATH "hearth-genmodel of a host build, for cross-compiled tests")
if(HEARTH_HOST_GENMODEL)
  set(hearth_genmodel ${HEARTH_HOST_GENMODEL})
else()
  set(hearth_genmodel ${CMAKE_BINARY_DIR}/hearth-genmodel)
endif()
set(HEARTH_TEST_ENV
  "HEARTH_BIN=$<TARGET_FILE:hearth>"
  "HEARTH_GENMODEL=${hearth_genmodel}"
  "HEARTH_SOURCE_DIR=${CMAKE_SOURCE_DIR}"
  "HEARTH_SHARED_DIR=${HEARTH_SHARED_DIR}"
  "HEARTH_BUILD_DIR=${CMAKE_BINARY_DIR}")
set(HEARTH_FUZZ_SECONDS 60 CACHE STRING "seconds each fuzz target runs under ctest")

if(NOT HEARTH_FUZZ)
  # tests/*.c: helpers shared by every test (e.g. making a model with hearth-genmodel).
  file(GLOB HEARTH_TEST_COMMON CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/*.c)
  file(GLOB HEARTH_TEST_DIRS LIST_DIRECTORIES true CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/*)
  foreach(d ${HEARTH_TEST_DIRS})
    if(NOT IS_DIRECTORY ${d})
      continue()
    endif()
    get_filename_component(sub ${d} NAME)
    if(sub STREQUAL "fuzz" OR sub STREQUAL "data")
      continue()
    endif()
    file(GLOB all_c CONFIGURE_DEPENDS ${d}/*.c)
    set(helpers "")
    set(tests "")
    foreach(f ${all_c})
      get_filename_component(n ${f} NAME)
      if(n MATCHES "^test_")
        list(APPEND tests ${f})
      else()
        list(APPEND helpers ${f})
      endif()
    endforeach()
    foreach(f ${tests})
      get_filename_component(n ${f} NAME_WE)
      string(REGEX REPLACE "^test_" "" n ${n})
      set(t ${sub}_${n})
      add_executable(${t} ${f} ${helpers} ${HEARTH_TEST_COMMON})
      target_include_directories(${t} PRIVATE ${CMAKE_SOURCE_DIR}/tests ${d})
      target_compile_definitions(${t} PRIVATE HEARTH_SHARED_DIR="${HEARTH_SHARED_DIR}"
        HEARTH_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
      target_link_libraries(${t} PRIVATE hearth_static)
      add_test(NAME ${t} COMMAND ${t} WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
      set_tests_properties(${t} PROPERTIES ENVIRONMENT "${HEARTH_TEST_ENV}" LABELS ${sub}
        SKIP_RETURN_CODE 77)
    endforeach()
    file(GLOB sh_tests CONFIGURE_DEPENDS ${d}/test_*.sh)
    foreach(f ${sh_tests})
      get_filename_component(n ${f} NAME_WE)
      string(REGEX REPLACE "^test_" "" n ${n})
      set(t ${sub}_${n}_sh)
      add_test(NAME ${t} COMMAND bash ${f} WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
      set_tests_properties(${t} PROPERTIES ENVIRONMENT "${HEARTH_TEST_ENV}" LABELS ${sub}
        SKIP_RETURN_CODE 77)
    endforeach()
  endforeach()
else()
  file(GLOB fuzzers CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
  # `make fuzz` builds only these (the CLI, tools and benches are built and
  # tested in the other builds; compiling them again here only costs time)
  add_custom_target(fuzzers)
  foreach(f ${fuzzers})
    get_filename_component(n ${f} NAME_WE)
    add_executable(${n} ${f})
    add_dependencies(fuzzers ${n})
    target_link_libraries(${n} PRIVATE hearth_static)
    target_link_options(${n} PRIVATE -fsanitize=fuzzer)
    string(REGEX REPLACE "^fuzz_" "" corpus ${n})
    set(cdir ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${corpus})
    # Fresh findings go to a scratch corpus in the build tree; the committed
    # seeds are read only.
    add_test(NAME ${n} COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
      sh -c "mkdir -p ${CMAKE_BINARY_DIR}/fuzz-${corpus} && exec $<TARGET_FILE:${n}> -max_total_time=${HEARTH_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 ${CMAKE_BINARY_DIR}/fuzz-${corpus} ${cdir}"
      WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
    # the environment names ../shared (the test data): __FILE__ is relative
    # to the source tree in these builds (-fmacro-prefix-map)
    set_tests_properties(${n} PROPERTIES LABELS fuzz TIMEOUT 900 ENVIRONMENT "${HEARTH_TEST_ENV}")
  endforeach()
endif()
