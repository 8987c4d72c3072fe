#!/bin/sh
# build-kernel.sh SRC OBJ ARCH TARGET FRAGMENT...
#
# Configures SRC into the object directory OBJ from `make tinyconfig` plus the
# given config fragments, checks that every option of every fragment survived
# `make olddefconfig` (a silently dropped option is an error), then builds
# TARGET (bzImage, or a directory such as arch/s390/kvm/).  The configuration is
# redone only when the fragments change.  ARCH=s390 cross-compiles with
# s390x-linux-gnu-, ARCH=arm64 with aarch64-linux-gnu-.  Compiles go through
# ccache when it is installed.
set -eu

# --help: the comment above, without the leading "# ".
case "${1:-}" in
-h|--help) sed -n '2,/^set -eu/{/^set -eu/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
esac

src=${1:?usage: build-kernel.sh SRC OBJ ARCH TARGET FRAGMENT...}
obj=${2:?}
arch=${3:?}
target=${4:?}
shift 4
[ $# -gt 0 ] || { echo "build-kernel.sh: no config fragment given" >&2; exit 1; }

mkdir -p "$obj"
obj=$(cd "$obj" && pwd)
src=$(cd "$src" && pwd)
jobs=${JOBS:-$(nproc)}

cross=
case "$arch" in
x86_64|x86) arch=x86_64 ;;
s390|s390x) arch=s390; cross=s390x-linux-gnu- ;;
arm64|aarch64) arch=arm64; cross=aarch64-linux-gnu- ;;
*) echo "build-kernel.sh: unsupported ARCH '$arch'" >&2; exit 1 ;;
esac

cc="${cross}gcc"
if command -v ccache >/dev/null 2>&1 && [ "${USE_CCACHE:-1}" = 1 ]; then
	cc="ccache $cc"
	# Relative paths in the cache key: stock/ and patched/ share objects.
	CCACHE_BASEDIR=$(dirname "$(dirname "$src")")
	CCACHE_DIR=${CCACHE_DIR:-$CCACHE_BASEDIR/ccache}
	CCACHE_NOHASHDIR=1
	CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime
	export CCACHE_BASEDIR CCACHE_DIR CCACHE_NOHASHDIR CCACHE_SLOPPINESS
	ccache -M "${CCACHE_SIZE:-10G}" >/dev/null
fi

kmake() {
	make -s -C "$src" O="$obj" ARCH="$arch" CROSS_COMPILE="$cross" CC="$cc" \
		KBUILD_BUILD_USER=kvm-scale KBUILD_BUILD_HOST=kvm-scale "$@"
}

sum=$(cat "$@" | sha256sum | cut -c1-16)
if [ "$(cat "$obj/.kvm-scale-config" 2>/dev/null)" != "$sum" ] || [ ! -f "$obj/.config" ]; then
	echo "  CONFIG  $obj ($*)"
	kmake tinyconfig >/dev/null
	"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$@" >/dev/null
	kmake olddefconfig >/dev/null
	bad=0
	for frag in "$@"; do
		grep -E '^(CONFIG_[A-Za-z0-9_]+=|# CONFIG_[A-Za-z0-9_]+ is not set)' "$frag" |
		while IFS= read -r line; do
			case "$line" in
			"# "*) opt=${line#\# }; opt=${opt%% *}
			       if grep -q "^$opt=" "$obj/.config"; then
				       echo "build-kernel.sh: $frag: $opt is set, fragment wants it off" >&2
				       echo bad
			       fi ;;
			*)     if ! grep -qxF "$line" "$obj/.config"; then
				       echo "build-kernel.sh: $frag: '$line' did not survive olddefconfig" \
					    "(have: $(grep "^${line%%=*}=" "$obj/.config" || echo unset))" >&2
				       echo bad
			       fi ;;
			esac
		done
	done > "$obj/.kvm-scale-bad"
	if [ -s "$obj/.kvm-scale-bad" ]; then
		rm -f "$obj/.kvm-scale-config"
		exit 1
	fi
	echo "$sum" > "$obj/.kvm-scale-config"
fi

echo "  BUILD   $obj $target"
# shellcheck disable=SC2086
kmake -j"$jobs" $target
