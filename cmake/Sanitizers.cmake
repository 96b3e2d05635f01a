# KEYHOLE_SANITIZE: builds everything (our code, llhttp, tests) with AddressSanitizer and
# UndefinedBehaviorSanitizer, so the whole ctest suite doubles as a memory-safety check. Qt and OpenSSL
# are the system's uninstrumented builds; ASan copes with that (it intercepts malloc/free globally).
# UBSan does not recover: the first finding aborts the process, so it fails the test that caused it.
#
# KEYHOLE_SANITIZER_TEST_ENV is added to every test's environment: the runtime options and the
# suppressions file (cmake/sanitizers/lsan.supp), which child processes (proxy, cli) inherit too.
if(NOT KEYHOLE_SANITIZE)
    return()
endif()
if(MSVC)
    message(FATAL_ERROR "KEYHOLE_SANITIZE needs gcc or clang")
endif()
if(KEYHOLE_FUZZ)
    message(FATAL_ERROR "KEYHOLE_SANITIZE and KEYHOLE_FUZZ are separate builds; KEYHOLE_FUZZ already has ASan/UBSan")
endif()

set(_keyhole_san_flags -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
add_compile_options(${_keyhole_san_flags})
add_link_options(-fsanitize=address,undefined)

set(_keyhole_supp "${CMAKE_CURRENT_LIST_DIR}/sanitizers")
# Reports go to files, one per process: the proxies and clients that integration tests start write to
# stderr that the tests only show on failure, and a leak found at their exit fails nothing by itself.
# scripts/test.sh --sanitize fails the run when this folder holds any report, and prints them.
set(KEYHOLE_SANITIZER_REPORTS "${CMAKE_BINARY_DIR}/sanitizer-reports")
set(KEYHOLE_ASAN_OPTIONS
    "detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:log_path=${KEYHOLE_SANITIZER_REPORTS}/asan")
set(KEYHOLE_SANITIZER_TEST_ENV
    "ASAN_OPTIONS=${KEYHOLE_ASAN_OPTIONS}"
    "LSAN_OPTIONS=suppressions=${_keyhole_supp}/lsan.supp:print_suppressions=0"
    "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=${_keyhole_supp}/ubsan.supp:log_path=${KEYHOLE_SANITIZER_REPORTS}/ubsan"
    "QTEST_FUNCTION_TIMEOUT=900000")
# Everything runs several times slower under ASan; integration tests wait on real processes.
set(KEYHOLE_TEST_TIMEOUT_FACTOR 3)
file(MAKE_DIRECTORY "${KEYHOLE_SANITIZER_REPORTS}")
message(STATUS "Keyhole: building with AddressSanitizer + UndefinedBehaviorSanitizer")
