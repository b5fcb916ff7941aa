# script/lib.sh: shell functions shared by script/server, script/test and
# friends. Source it; it sets ROOT (the repository) and changes to it.
#
#   . "$(dirname "$0")/lib.sh"
#
# Layout it manages (all in .gitignore):
#   build/        out-of-tree autotools build (configure, make)
#   build-asan/   the same with ASan+UBSan, installed into var/prefix-asan/
#   var/prefix/   `make install` target: sbin/mcpauth-admin,
#                 libexec/mcpauth/mcpauth-discovery, share/man, share/mcpauth
#   var/dev/      script/server's development instance

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR="$ROOT/build"
PREFIX="${MCPAUTH_PREFIX:-$ROOT/var/prefix}"
cd "$ROOT"

# Messages go to stderr so that callers can capture a command's output.
say() { printf '==> %s\n' "$*" >&2; }
warn() { printf '%s: warning: %s\n' "${0##*/}" "$*" >&2; }
die() { printf '%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# True when configure must be (re)generated from configure.ac.
need_autoreconf() {
	[ -x configure ] || return 0
	[ configure.ac -nt configure ] && return 0
	# A fresh clone has no aclocal.m4 or Makefile.in either.
	[ -f aclocal.m4 ] && [ -f Makefile.in ] || return 0
	return 1
}

# True when build/ must be (re)configured.
need_configure() {
	[ -f "$BUILD_DIR/config.status" ] && [ -f "$BUILD_DIR/Makefile" ] || return 0
	[ configure -nt "$BUILD_DIR/config.status" ] && return 0
	# Configured for another prefix (MCPAUTH_PREFIX changed)?
	local configured
	configured=$(sed -n "s/^S\[\"prefix\"\]=\"\(.*\)\"\$/\1/p" \
		"$BUILD_DIR/config.status")
	[ "$configured" = "$PREFIX" ] || return 0
	return 1
}

# autoreconf when needed, configure in build/ when needed, make, make install.
# Extra arguments go to configure (and force a reconfigure).
build() {
	# autoreconf needs the m4 directory to exist (ACLOCAL_AMFLAGS = -I m4).
	mkdir -p m4
	if need_autoreconf; then
		say "autoreconf -fi"
		autoreconf -fi || die "autoreconf failed"
	fi
	mkdir -p "$BUILD_DIR"
	if [ $# -gt 0 ] || need_configure; then
		say "configure --prefix=$PREFIX --enable-werror $*"
		(cd "$BUILD_DIR" && ../configure -q --prefix="$PREFIX" \
			--enable-werror "$@") || die "configure failed (see build/config.log)"
	fi
	say "make"
	make -C "$BUILD_DIR" -j2 >&2 || die "build failed"
	say "make install (into ${PREFIX#"$ROOT"/})"
	make -C "$BUILD_DIR" install >/dev/null || die "make install failed"
}

# The same build with AddressSanitizer and UndefinedBehaviorSanitizer
# (aborting at the first finding), in build-asan/, installed into
# var/prefix-asan/: script/test runs the unit and integration suites
# against it too.
ASAN_BUILD_DIR="$ROOT/build-asan"
ASAN_PREFIX="$ROOT/var/prefix-asan"
ASAN_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all"
build_asan() {
	# need_configure reads BUILD_DIR and PREFIX: these shadow them.
	local BUILD_DIR="$ASAN_BUILD_DIR" PREFIX="$ASAN_PREFIX"
	mkdir -p "$BUILD_DIR"
	if need_configure; then
		say "configure (ASan+UBSan) --prefix=${PREFIX#"$ROOT"/}"
		(cd "$BUILD_DIR" && ../configure -q --prefix="$PREFIX" \
			--enable-werror \
			CFLAGS="-g -O1 -fno-omit-frame-pointer $ASAN_FLAGS" \
			LDFLAGS="$ASAN_FLAGS") ||
			die "configure failed (see build-asan/config.log)"
	fi
	say "make (ASan+UBSan)"
	make -C "$BUILD_DIR" -j2 >&2 || die "ASan build failed"
	make -C "$BUILD_DIR" install >/dev/null || die "ASan make install failed"
}

# Installed programs.
admin_bin() { printf '%s/sbin/mcpauth-admin\n' "$PREFIX"; }
libexec_dir() { printf '%s/libexec/mcpauth\n' "$PREFIX"; }

# Installs missing Debian packages (script/deps).
deps() {
	"$ROOT/script/deps" || die "missing dependencies (see above)"
}

# True when something listens on 127.0.0.1:$1 (or on every address).
port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
