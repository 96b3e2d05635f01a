# Installer packages with CPack, one per program (CPack components):
#   proxy   -> keyhole-proxy  the server, its manual page, a systemd unit and /etc/keyhole/proxy.conf
#   cli     -> keyhole-cli    the headless client, its manual page and the keyhole-cli@.service template
#   desktop -> keyhole        the tray app, its manual page, .desktop file, icons and AppStream metadata
# Linux: `cpack -G DEB` and `cpack -G RPM` in the build folder (scripts/package.sh builds and checks both);
# the .debs come with -dbgsym packages that hold the debug symbols split off the stripped programs.
# Windows: an NSIS installer of the tray app and the CLI, with Qt bundled by windeployqt.
# macOS: a .dmg holding keyhole.app, with Qt bundled by macdeployqt.
# Windows and macOS are built by .github/workflows/packages.yml only; nobody has tried them by hand.

set(KEYHOLE_MAINTAINER "Keyhole maintainers <maintainers@keyhole.dev>")
# The packaging revision: raise it for a package change without a new upstream version, together with a
# new entry in packaging/debian/changelog.in.
set(KEYHOLE_PACKAGE_RELEASE 1)

set(CPACK_PACKAGE_NAME "keyhole")
set(CPACK_PACKAGE_VENDOR "Keyhole")
set(CPACK_PACKAGE_CONTACT "${KEYHOLE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Self-hostable reverse tunnel: proxy, CLI and tray app")
set(CPACK_PACKAGE_HOMEPAGE_URL "${PROJECT_HOMEPAGE_URL}")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_RESOURCE_FILE_README "${PROJECT_SOURCE_DIR}/README.md")
set(CPACK_PACKAGE_INSTALL_DIRECTORY "Keyhole")

set(keyhole_components)
if(TARGET keyhole-proxy)
    list(APPEND keyhole_components proxy)
endif()
if(TARGET keyhole-cli)
    list(APPEND keyhole_components cli)
endif()
if(TARGET keyhole)
    list(APPEND keyhole_components desktop)
endif()

# Descriptions: the first line is the synopsis, the rest the long description (Debian, RPM, NSIS).
set(CPACK_COMPONENT_PROXY_DISPLAY_NAME "keyhole-proxy (server)")
set(CPACK_COMPONENT_PROXY_DESCRIPTION "server of the Keyhole reverse tunnel
Keyhole publishes web services that run behind a firewall on a public
host name, without opening a port. keyhole-proxy runs on the public host
with a wildcard DNS name: it accepts visitors' HTTP and WebSocket requests
and passes them over one WebSocket to the keyhole-cli or keyhole client that
registered the host name with its own key.
.
This package ships a hardened systemd unit that is neither enabled nor
started on installation: edit /etc/keyhole/proxy.conf first.")
set(CPACK_COMPONENT_CLI_DISPLAY_NAME "keyhole-cli (command line client)")
set(CPACK_COMPONENT_CLI_DESCRIPTION "command line client of the Keyhole reverse tunnel
Keyhole publishes web services that run behind a firewall on a public
host name, without opening a port. keyhole-cli keeps one WebSocket open
to a keyhole-proxy and replays the requests of visitors against a local
service. The host name is derived from the client's key, so the same key
always gets the same host name.
.
This package ships a systemd unit template, keyhole-cli@PORT.service,
that publishes one local port per instance.")
set(CPACK_COMPONENT_DESKTOP_DISPLAY_NAME "Keyhole (tray app)")
set(CPACK_COMPONENT_DESKTOP_DESCRIPTION "tray app of the Keyhole reverse tunnel
Keyhole publishes web services that run behind a firewall on a public
host name, without opening a port. This tray app keeps a tunnel to a
keyhole-proxy open, shows its state, copies or opens the public URL and
shows a live log of the requests, which never leaves the machine. Keys
live in the system keychain where one is available.")

if(UNIX AND NOT APPLE)
    include(${CMAKE_CURRENT_LIST_DIR}/linux/LinuxFiles.cmake)

    set(CPACK_GENERATOR "DEB;RPM")
    set(CPACK_COMPONENTS_ALL ${keyhole_components})
    set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")

    set(CPACK_DEB_COMPONENT_INSTALL ON)
    set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
    set(CPACK_DEBIAN_PACKAGE_RELEASE ${KEYHOLE_PACKAGE_RELEASE})
    set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${KEYHOLE_MAINTAINER}")
    set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${PROJECT_HOMEPAGE_URL}")
    set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
    set(CPACK_DEBIAN_PACKAGE_SECTION net)
    # Each package depends on the libraries its own program links, found by dpkg-shlibdeps.
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
    # The programs are stripped; their debug symbols go to keyhole-*-dbgsym .ddeb packages.
    set(CPACK_DEBIAN_DEBUGINFO_PACKAGE ON)
    set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
    set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
    set(CPACK_DEBIAN_PROXY_PACKAGE_NAME keyhole-proxy)
    set(CPACK_DEBIAN_CLI_PACKAGE_NAME keyhole-cli)
    set(CPACK_DEBIAN_DESKTOP_PACKAGE_NAME keyhole)
    set(CPACK_DEBIAN_PROXY_PACKAGE_CONTROL_EXTRA ${KEYHOLE_PROXY_CONFFILES})
    # The tray icons are SVG: Qt's SVG image format plugin is loaded at run time, so shlibdeps cannot see it.
    set(CPACK_DEBIAN_DESKTOP_PACKAGE_DEPENDS "libqt6svg6")

    set(CPACK_RPM_COMPONENT_INSTALL ON)
    set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
    set(CPACK_RPM_PACKAGE_RELEASE ${KEYHOLE_PACKAGE_RELEASE})
    set(CPACK_RPM_PACKAGE_LICENSE "Apache-2.0")
    set(CPACK_RPM_PACKAGE_URL "${PROJECT_HOMEPAGE_URL}")
    set(CPACK_RPM_PACKAGE_GROUP "Applications/Internet")
    set(CPACK_RPM_PROXY_PACKAGE_NAME keyhole-proxy)
    set(CPACK_RPM_CLI_PACKAGE_NAME keyhole-cli)
    set(CPACK_RPM_DESKTOP_PACKAGE_NAME keyhole)
    set(CPACK_RPM_PROXY_PACKAGE_SUMMARY "Server of the Keyhole reverse tunnel")
    set(CPACK_RPM_CLI_PACKAGE_SUMMARY "Command line client of the Keyhole reverse tunnel")
    set(CPACK_RPM_DESKTOP_PACKAGE_SUMMARY "Tray app of the Keyhole reverse tunnel")
    # RPM keeps the synopsis apart and marks paragraphs with empty lines, not Debian's " .".
    foreach(component IN ITEMS PROXY CLI DESKTOP)
        set(description "${CPACK_COMPONENT_${component}_DESCRIPTION}")
        string(FIND "${description}" "\n" newline)
        math(EXPR newline "${newline} + 1")
        string(SUBSTRING "${description}" ${newline} -1 description)
        string(REPLACE "\n.\n" "\n\n" description "${description}")
        set(CPACK_RPM_${component}_PACKAGE_DESCRIPTION "${description}")
    endforeach()
    set(CPACK_RPM_PROXY_USER_FILELIST "%config(noreplace) /etc/keyhole/proxy.conf")
    # Directories that the distribution's own packages own.
    set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
        /etc /usr/lib/systemd /usr/lib/systemd/system /usr/share/man /usr/share/man/man1
        /usr/share/applications /usr/share/metainfo /usr/share/icons /usr/share/icons/hicolor)
    foreach(size IN LISTS KEYHOLE_ICON_SIZES ITEMS scalable)
        set(dir ${size}x${size})
        if(size STREQUAL scalable)
            set(dir scalable)
        endif()
        list(APPEND CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
             /usr/share/icons/hicolor/${dir} /usr/share/icons/hicolor/${dir}/apps)
    endforeach()
    # RPM's own debug package needs the build tree under a long path; the RPMs are stripped instead.
    # No /usr/lib/.build-id links either: the same paths in every package would conflict.
    set(CPACK_RPM_SPEC_MORE_DEFINE "%define debug_package %{nil}\n%define _build_id_links none")
    set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_CURRENT_LIST_DIR}/CPackOptions.cmake)
elseif(APPLE)
    include(${CMAKE_CURRENT_LIST_DIR}/macos/MacFiles.cmake)
    set(CPACK_GENERATOR "DragNDrop")
    set(CPACK_COMPONENTS_ALL desktop)
    set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
    set(CPACK_DMG_VOLUME_NAME "Keyhole")
elseif(WIN32)
    include(${CMAKE_CURRENT_LIST_DIR}/windows/WindowsFiles.cmake)
    set(CPACK_GENERATOR "NSIS")
    list(REMOVE_ITEM keyhole_components proxy)
    set(CPACK_COMPONENTS_ALL ${keyhole_components})
    set(CPACK_NSIS_PACKAGE_NAME "Keyhole")
    set(CPACK_NSIS_DISPLAY_NAME "Keyhole")
    set(CPACK_NSIS_CONTACT "${KEYHOLE_MAINTAINER}")
    set(CPACK_NSIS_URL_INFO_ABOUT "${PROJECT_HOMEPAGE_URL}")
    set(CPACK_NSIS_ENABLE_UNINSTALL_BEFORE_INSTALL ON)
    set(CPACK_NSIS_INSTALLED_ICON_NAME "bin\\\\keyhole.exe")
    set(CPACK_NSIS_MENU_LINKS "bin/keyhole.exe" "Keyhole")
    set(CPACK_PACKAGE_EXECUTABLES "keyhole" "Keyhole")
endif()

include(CPack)
