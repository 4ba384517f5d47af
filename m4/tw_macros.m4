dnl TW_CHECK_CFLAG(FLAG, VAR): append FLAG to VAR when the compiler accepts it.
AC_DEFUN([TW_CHECK_CFLAG], [
	AC_MSG_CHECKING([whether $CC accepts $1])
	tw_saved_cflags="$CFLAGS"
	CFLAGS="$CFLAGS -Werror $1"
	AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
		[AC_MSG_RESULT([yes]); $2="$$2 $1"],
		[AC_MSG_RESULT([no])])
	CFLAGS="$tw_saved_cflags"
])

dnl TW_REQUIRE(VAR, MODULES, DEBIAN-PACKAGE): PKG_CHECK_MODULES that stops
dnl configure with the package to install.
AC_DEFUN([TW_REQUIRE], [
	PKG_CHECK_MODULES([$1], [$2], [],
		[AC_MSG_ERROR([$2 not found: install $3 (apt-get install $3)])])
])
