# KEYHOLE_FUZZ: libFuzzer targets (tests/fuzz) for every decoder of untrusted bytes. Needs clang;
# everything we compile gets -fsanitize=fuzzer-no-link,address,undefined (coverage for the fuzzer,
# ASan/UBSan to turn a silent bug into a crash), and only the fuzz targets link the libFuzzer main.
# Qt stays uninstrumented, which ASan handles. scripts/fuzz.sh configures and runs this build.
if(NOT KEYHOLE_FUZZ)
    return()
endif()
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang" OR NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "KEYHOLE_FUZZ needs clang (libFuzzer): configure with CC=clang-14 CXX=clang++-14 "
                        "(Debian: clang-14 libclang-rt-14-dev), or use scripts/fuzz.sh")
endif()

add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                    -fno-omit-frame-pointer)
add_link_options(-fsanitize=address,undefined)
message(STATUS "Keyhole: building libFuzzer targets (tests/fuzz)")
