# What the Linux packages hold besides the programs: manual pages, systemd units, the proxy's
# configuration file, the tray app's desktop integration and, per package, the Debian copyright and
# changelog. Included by packaging/Packaging.cmake; sets KEYHOLE_ICON_SIZES and KEYHOLE_PROXY_CONFFILES.
set(out ${PROJECT_BINARY_DIR}/packaging)
set(KEYHOLE_ICON_SIZES 16 22 24 32 48 64 128 256 512)
find_program(KEYHOLE_GZIP gzip REQUIRED)

# Manual pages, written by help2man from each program's --help and --version at build time. help2man is
# optional for a build (a package without manual pages gets a lintian warning); CI installs it. The
# sanitizer and fuzzing builds skip them and the icon bitmaps: their programs report leaks at exit, and
# they are never packaged.
find_program(KEYHOLE_HELP2MAN help2man)
set(keyhole_run_built_tools ON)
if(KEYHOLE_SANITIZE OR KEYHOLE_FUZZ OR CMAKE_CROSSCOMPILING)
    set(keyhole_run_built_tools OFF)
endif()
set(keyhole_man_pages
    proxy keyhole-proxy "server of the Keyhole reverse tunnel"
    cli keyhole-cli "publish a local web service through a Keyhole proxy"
    desktop keyhole "tray app that publishes a local web service through a Keyhole proxy")
if(KEYHOLE_HELP2MAN AND keyhole_run_built_tools)
    set(man_outputs)
    while(keyhole_man_pages)
        list(POP_FRONT keyhole_man_pages component program name)
        if(NOT TARGET ${program})
            continue()
        endif()
        set(include_file ${CMAKE_CURRENT_LIST_DIR}/${program}.h2m)
        set(include_args)
        set(include_deps)
        if(EXISTS ${include_file})
            set(include_args --include=${include_file})
            set(include_deps ${include_file})
        endif()
        # QT_QPA_PLATFORM: the tray app makes a QApplication before it reads --help, also without a display.
        add_custom_command(OUTPUT ${out}/man/${program}.1.gz
            COMMAND ${CMAKE_COMMAND} -E make_directory ${out}/man
            COMMAND ${CMAKE_COMMAND} -E env QT_QPA_PLATFORM=offscreen
                    ${KEYHOLE_HELP2MAN} --no-info --section=1 "--name=${name}" ${include_args}
                    --output=${out}/man/${program}.1 $<TARGET_FILE:${program}>
            COMMAND ${KEYHOLE_GZIP} -9nf ${out}/man/${program}.1
            DEPENDS ${program} ${include_deps}
            COMMENT "Writing the manual page of ${program} (help2man)"
            VERBATIM)
        list(APPEND man_outputs ${out}/man/${program}.1.gz)
        install(FILES ${out}/man/${program}.1.gz DESTINATION share/man/man1 COMPONENT ${component})
    endwhile()
    add_custom_target(keyhole_man_pages ALL DEPENDS ${man_outputs})
else()
    message(STATUS "Packaging: no manual pages (help2man not found, or a sanitizer/fuzzing build)")
endif()

# Debian wants the copyright and changelog of every binary package in /usr/share/doc/<package>/.
configure_file(${CMAKE_CURRENT_LIST_DIR}/../debian/changelog.in ${out}/changelog.Debian @ONLY)
add_custom_command(OUTPUT ${out}/changelog.Debian.gz
    COMMAND ${KEYHOLE_GZIP} -9nc ${out}/changelog.Debian > ${out}/changelog.Debian.gz
    DEPENDS ${out}/changelog.Debian
    VERBATIM)
add_custom_target(keyhole_changelog ALL DEPENDS ${out}/changelog.Debian.gz)
foreach(pair IN ITEMS proxy:keyhole-proxy cli:keyhole-cli desktop:keyhole)
    string(REPLACE ":" ";" pair ${pair})
    list(GET pair 0 component)
    list(GET pair 1 package)
    if(TARGET ${package})
        install(FILES ${CMAKE_CURRENT_LIST_DIR}/../debian/copyright ${out}/changelog.Debian.gz
                DESTINATION share/doc/${package} COMPONENT ${component})
    endif()
endforeach()

if(TARGET keyhole-proxy)
    # Units go to /usr/lib/systemd/system, where systemd and both Debian 12 and RPM distributions look.
    install(FILES ${CMAKE_CURRENT_LIST_DIR}/keyhole-proxy.service
            DESTINATION lib/systemd/system COMPONENT proxy)
    # /etc even when the prefix is /usr: a conffile of the package, kept on upgrades once edited.
    install(FILES ${CMAKE_CURRENT_LIST_DIR}/proxy.conf DESTINATION /etc/keyhole COMPONENT proxy)
    file(WRITE ${out}/proxy-control/conffiles "/etc/keyhole/proxy.conf\n")
    set(KEYHOLE_PROXY_CONFFILES ${out}/proxy-control/conffiles)
endif()
if(TARGET keyhole-cli)
    install(FILES ${CMAKE_CURRENT_LIST_DIR}/keyhole-cli@.service DESTINATION lib/systemd/system COMPONENT cli)
endif()

if(TARGET keyhole)
    install(FILES ${PROJECT_SOURCE_DIR}/resources/keyhole.desktop DESTINATION share/applications
            COMPONENT desktop)
    install(FILES ${PROJECT_SOURCE_DIR}/resources/dev.keyhole.Keyhole.metainfo.xml DESTINATION share/metainfo
            COMPONENT desktop)
    install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/keyhole.svg DESTINATION share/icons/hicolor/scalable/apps
            COMPONENT desktop)
endif()
if(TARGET keyhole AND keyhole_run_built_tools)
    # Bitmaps of the SVG icon for the panels and software centres that want them.
    find_package(Qt6 REQUIRED COMPONENTS Gui)
    add_executable(keyhole_render_icon ${CMAKE_CURRENT_LIST_DIR}/../icons/RenderIcon.cpp)
    target_link_libraries(keyhole_render_icon PRIVATE Qt6::Gui keyhole_warnings)
    set(icon_outputs)
    foreach(size IN LISTS KEYHOLE_ICON_SIZES)
        set(png ${out}/icons/${size}x${size}/keyhole.png)
        add_custom_command(OUTPUT ${png}
            COMMAND ${CMAKE_COMMAND} -E make_directory ${out}/icons/${size}x${size}
            COMMAND keyhole_render_icon ${PROJECT_SOURCE_DIR}/resources/icons/keyhole.svg ${size} ${png}
            DEPENDS keyhole_render_icon ${PROJECT_SOURCE_DIR}/resources/icons/keyhole.svg
            VERBATIM)
        list(APPEND icon_outputs ${png})
        install(FILES ${png} DESTINATION share/icons/hicolor/${size}x${size}/apps COMPONENT desktop)
    endforeach()
    add_custom_target(keyhole_icons ALL DEPENDS ${icon_outputs})
endif()
