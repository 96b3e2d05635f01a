# Per-generator settings, read by cpack when it runs (CPACK_PROJECT_CONFIG_FILE).
if(CPACK_GENERATOR STREQUAL "RPM")
    # The .debs split the debug symbols into -dbgsym packages (CPACK_DEBIAN_DEBUGINFO_PACKAGE, which
    # strips the programs itself); the RPMs have no debug package, so their programs are stripped here.
    set(CPACK_STRIP_FILES ON)
endif()
