# Installer packages with CPack: `cmake --build build && cpack --config build/CPackConfig.cmake`.
#   Linux: a .deb (Debian/Ubuntu) and a .tar.gz; the proxy comes with a systemd unit.
#   macOS: a .dmg of the keyhole.app bundle (macdeployqt is the release step that bundles Qt).
#   Windows: a .zip (windeployqt is the release step that bundles Qt; an NSIS installer needs NSIS).
set(CPACK_PACKAGE_NAME "keyhole")
set(CPACK_PACKAGE_VENDOR "Keyhole")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Self-hostable reverse tunnel: proxy, CLI and tray app")
set(CPACK_PACKAGE_CONTACT "Keyhole maintainers")
set(CPACK_RESOURCE_FILE_README "${PROJECT_SOURCE_DIR}/README.md")
set(CPACK_PACKAGE_INSTALL_DIRECTORY "Keyhole")

if(UNIX AND NOT APPLE)
    install(FILES ${CMAKE_CURRENT_LIST_DIR}/systemd/keyhole-proxy.service DESTINATION lib/systemd/system)
    set(CPACK_GENERATOR "DEB;TGZ")
    set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
    set(CPACK_DEBIAN_PACKAGE_SECTION "net")
elseif(APPLE)
    set(CPACK_GENERATOR "DragNDrop")
else()
    set(CPACK_GENERATOR "ZIP")
endif()

include(CPack)
