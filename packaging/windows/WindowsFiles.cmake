# Windows: keyhole.exe and keyhole-cli.exe with the Qt libraries and plugins that windeployqt copies next to
# them when CPack installs them, in an NSIS installer. Built by .github/workflows/packages.yml.
find_program(KEYHOLE_WINDEPLOYQT windeployqt HINTS ${QT6_INSTALL_PREFIX}/${QT6_INSTALL_BINS} REQUIRED)
foreach(pair IN ITEMS desktop:keyhole cli:keyhole-cli)
    string(REPLACE ":" ";" pair ${pair})
    list(GET pair 0 component)
    list(GET pair 1 program)
    if(TARGET ${program})
        # Other DLLs the program needs (OpenSSL from vcpkg); Qt's own are windeployqt's.
        install(TARGETS ${program} RUNTIME_DEPENDENCY_SET ${program}_runtime RUNTIME DESTINATION bin
                COMPONENT ${component})
        install(RUNTIME_DEPENDENCY_SET ${program}_runtime
                PRE_EXCLUDE_REGEXES "api-ms-.*" "ext-ms-.*" "Qt6.*"
                POST_EXCLUDE_REGEXES ".*[Ss]ystem32/.*"
                DIRECTORIES ${VCPKG_INSTALLED_DIR}/${VCPKG_TARGET_TRIPLET}/bin
                DESTINATION bin COMPONENT ${component})
        install(CODE "
            execute_process(COMMAND \"${KEYHOLE_WINDEPLOYQT}\" --release --no-translations
                                    --dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/bin\"
                                    \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/bin/${program}.exe\"
                            COMMAND_ERROR_IS_FATAL ANY)
        " COMPONENT ${component})
    endif()
endforeach()
# The MSVC runtime for both programs.
set(CMAKE_INSTALL_SYSTEM_RUNTIME_COMPONENT desktop)
include(InstallRequiredSystemLibraries)
