# macOS: keyhole.app (Info.plist.in: a menu bar app, LSUIElement) with Qt copied into the bundle by
# macdeployqt when CPack installs it, then put in a .dmg (DragNDrop). Built by .github/workflows/packages.yml.
if(NOT TARGET keyhole)
    return()
endif()
find_program(KEYHOLE_MACDEPLOYQT macdeployqt HINTS ${QT6_INSTALL_PREFIX}/${QT6_INSTALL_BINS} REQUIRED)
install(CODE "
    execute_process(COMMAND \"${KEYHOLE_MACDEPLOYQT}\" \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/keyhole.app\"
                            -always-overwrite -verbose=1
                    COMMAND_ERROR_IS_FATAL ANY)
" COMPONENT desktop)
