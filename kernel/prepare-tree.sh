#!/bin/sh
# prepare-tree.sh BASE BUILD_DIR
#
# Creates the kvm-scale kernel trees under BUILD_DIR:
#   BUILD_DIR/base            git repository: the untouched base tree, one commit
#                             tagged kvm-scale-base
#   BUILD_DIR/stock/linux     worktree, detached at kvm-scale-base (never patched)
#   BUILD_DIR/patched/linux   worktree on branch kvm-scale: the development tree
#
# BASE is a linux-source tarball (.tar.xz, .tar.gz, .tar) or a kernel source
# directory (KERNEL_SRC=...).  Nothing is done when the trees already exist and
# were made from the same BASE.  stock/ and patched/ keep the same relative
# layout (linux/ next to obj*/) so that ccache reuses objects across them.
set -eu

# --help: the comment above, without the leading "# ".
case "${1:-}" in
-h|--help) sed -n '2,/^set -eu/{/^set -eu/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
esac

base=${1:?usage: prepare-tree.sh BASE BUILD_DIR}
out=${2:?usage: prepare-tree.sh BASE BUILD_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
repo=$out/base

if [ -d "$repo/.git" ]; then
	if [ "$(cat "$repo/.kvm-scale-from" 2>/dev/null)" = "$base" ]; then
		exit 0
	fi
	echo "prepare-tree: $repo was made from '$(cat "$repo/.kvm-scale-from" 2>/dev/null)'," >&2
	echo "prepare-tree: not '$base'.  To switch bases, remove the trees:" >&2
	echo "prepare-tree:   rm -rf $repo $out/stock $out/patched" >&2
	echo "prepare-tree: ('make distclean' removes all of $out and .config);" >&2
	echo "prepare-tree: run 'make patches' first if $out/patched/linux holds commits not yet exported" >&2
	exit 1
fi

if [ -f "$base" ]; then
	echo "  UNPACK  $base"
	rm -rf "$repo.tmp"
	mkdir -p "$repo.tmp"
	tar -xf "$base" -C "$repo.tmp" --strip-components=1
elif [ -d "$base" ] && [ -f "$base/Makefile" ] && [ -d "$base/virt/kvm" ]; then
	echo "  COPY    $base"
	rm -rf "$repo.tmp"
	mkdir -p "$repo.tmp"
	if git -C "$base" rev-parse --git-dir >/dev/null 2>&1; then
		# Only what git tracks: no build products of the user's tree.
		git -C "$base" archive --format=tar HEAD | tar -xf - -C "$repo.tmp"
	else
		(cd "$base" && tar -cf - --exclude=.git .) | tar -xf - -C "$repo.tmp"
	fi
else
	echo "prepare-tree: '$base' is neither a kernel tarball nor a kernel source tree" >&2
	exit 1
fi

cd "$repo.tmp"
git init -q -b kvm-scale-base-branch
git config user.name "kvm-scale"
git config user.email "kvm-scale@localhost"
git config gc.auto 0
git add -A -f .
git commit -q -m "kvm-scale baseline: $(basename "$base")"
git tag kvm-scale-base
echo "$base" > .git/../.kvm-scale-from
cd "$out"
mv "$repo.tmp" "$repo"
# Worktrees record absolute paths: create them after the final move.
git -C "$repo" worktree add -q --detach "$out/stock/linux" kvm-scale-base
git -C "$repo" worktree add -q -b kvm-scale "$out/patched/linux" kvm-scale-base
echo "  TREE    $out/{stock,patched}/linux at $(git -C "$repo" describe --tags)"
