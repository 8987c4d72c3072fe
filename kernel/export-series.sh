#!/bin/sh
# export-series.sh TREE PATCHES_DIR
#
# Exports kvm-scale-base..HEAD of TREE with `git format-patch --base` into
# PATCHES_DIR, replacing the previous export, and rewrites PATCHES_DIR/series.
# Records the export so that apply-series.sh knows the tree is in sync.
set -eu

# --help: the comment above, without the leading "# ".
case "${1:-}" in
-h|--help) sed -n '2,/^set -eu/{/^set -eu/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
esac

tree=${1:?usage: export-series.sh TREE PATCHES_DIR}
pdir=${2:?usage: export-series.sh TREE PATCHES_DIR}
mkdir -p "$pdir"
pdir=$(cd "$pdir" && pwd)

if [ -n "$(git -C "$tree" status --porcelain --untracked-files=no)" ]; then
	echo "export-series: $tree has uncommitted changes; commit them first" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$tree" format-patch -q --base=kvm-scale-base --no-signature \
	-o "$tmp" kvm-scale-base..HEAD
rm -f "$pdir"/*.patch
: > "$pdir/series"
for p in "$tmp"/*.patch; do
	[ -e "$p" ] || continue
	cp "$p" "$pdir/"
	basename "$p" >> "$pdir/series"
done
n=$(grep -c . "$pdir/series" || true)
echo "  EXPORT  $n patch(es) to $pdir"
# Same digest as apply-series.sh computes.
d=$({ cat "$pdir/series"; grep -v '^[[:space:]]*\(#\|$\)' "$pdir/series" |
	while read -r p; do cat "$pdir/$p"; done; } | sha256sum | cut -c1-16)
echo "$d $(git -C "$tree" rev-parse HEAD)" > "$tree/../series.stamp"
