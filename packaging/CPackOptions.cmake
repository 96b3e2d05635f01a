# Per-generator settings, read by cpack when it runs (CPACK_PROJECT_CONFIG_FILE).
if(CPACK_GENERATOR STREQUAL "RPM")
    # The .debs split the debug symbols into -dbgsym packages (CPACK_DEBIAN_DEBUGINFO_PACKAGE, which
    # strips the programs itself); the RPMs have no debug package, so their programs are stripped here.
    set(CPACK_STRIP_FILES ON)
    # /etc/keyhole/proxy.conf is at an absolute path: the packages are not relocatable.
    set(CPACK_PACKAGE_RELOCATABLE OFF)
endif()
if(CPACK_GENERATOR STREQUAL "DEB")
    # CPackDeb puts a project-wide CPACK_PACKAGE_DESCRIPTION_SUMMARY before every package's description
    # unless it is CPack's default; then the first line of each component's description is its synopsis.
    set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CPACK_DEFAULT_PACKAGE_DESCRIPTION_SUMMARY}")
endif()
