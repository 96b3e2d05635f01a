# Finds llhttp, the HTTP parser of Node.js, and provides the target llhttp::llhttp.
#  1. an installed library with its CMake package (vcpkg, Homebrew, newer distros: libllhttp-dev);
#  2. pkg-config "libllhttp";
#  3. the C sources that Debian 12 ships in node-llhttp (/usr/share/llhttp + /usr/share/include/llhttp),
#     compiled here as a small static library. LLHTTP_SOURCE_DIR / LLHTTP_INCLUDE_DIR override the paths.
if(TARGET llhttp::llhttp)
    set(Llhttp_FOUND TRUE)
    return()
endif()

find_package(llhttp QUIET CONFIG)
if(TARGET llhttp::llhttp_static AND NOT TARGET llhttp::llhttp)
    add_library(llhttp::llhttp ALIAS llhttp::llhttp_static)
endif()
if(TARGET llhttp::llhttp)
    set(Llhttp_FOUND TRUE)
    return()
endif()

find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
    pkg_check_modules(PC_LLHTTP QUIET IMPORTED_TARGET libllhttp)
    if(PC_LLHTTP_FOUND)
        add_library(llhttp::llhttp ALIAS PkgConfig::PC_LLHTTP)
        set(Llhttp_FOUND TRUE)
        return()
    endif()
endif()

find_path(LLHTTP_INCLUDE_DIR llhttp.h PATHS /usr/share/include/llhttp /usr/local/share/include/llhttp)
find_path(LLHTTP_SOURCE_DIR llhttp.c PATHS /usr/share/llhttp /usr/local/share/llhttp)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Llhttp REQUIRED_VARS LLHTTP_INCLUDE_DIR LLHTTP_SOURCE_DIR)
if(Llhttp_FOUND)
    add_library(keyhole_llhttp STATIC
        ${LLHTTP_SOURCE_DIR}/llhttp.c ${LLHTTP_SOURCE_DIR}/api.c ${LLHTTP_SOURCE_DIR}/http.c)
    target_include_directories(keyhole_llhttp SYSTEM PUBLIC ${LLHTTP_INCLUDE_DIR})
    set_target_properties(keyhole_llhttp PROPERTIES POSITION_INDEPENDENT_CODE ON C_STANDARD 99)
    add_library(llhttp::llhttp ALIAS keyhole_llhttp)
endif()
