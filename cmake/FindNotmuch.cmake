# libnotmuch ships no pkg-config file: find it by hand.
find_path(NOTMUCH_INCLUDE_DIR notmuch.h REQUIRED)
find_library(NOTMUCH_LIBRARY notmuch REQUIRED)
add_library(Notmuch::notmuch UNKNOWN IMPORTED)
set_target_properties(Notmuch::notmuch PROPERTIES
	IMPORTED_LOCATION ${NOTMUCH_LIBRARY}
	INTERFACE_INCLUDE_DIRECTORIES ${NOTMUCH_INCLUDE_DIR})
