#!/bin/sh
# apply-series.sh PATCHES_DIR TREE
#
# Makes branch kvm-scale of TREE equal to kvm-scale-base + `git am` of every
# patch listed in PATCHES_DIR/series, in order.  A patch that does not apply
# stops with its name.  Does nothing when the series is unchanged since the
# last apply/export and the tree is where that left it.  Refuses to throw away
# work: uncommitted edits, or commits that were never exported with
# `make patches`, stop it (FORCE=1 overrides).
set -eu

# --help: the comment above, without the leading "# ".
case "${1:-}" in
-h|--help) sed -n '2,/^set -eu/{/^set -eu/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
esac

pdir=${1:?usage: apply-series.sh PATCHES_DIR TREE}
# No patches/ directory (nothing exported yet) is an empty series.
[ -d "$pdir" ] && pdir=$(cd "$pdir" && pwd)
tree=${2:?usage: apply-series.sh PATCHES_DIR TREE}
stamp=$tree/../series.stamp
series=$pdir/series

digest() {
	{
		[ -f "$series" ] && cat "$series"
		[ -f "$series" ] && grep -v '^[[:space:]]*\(#\|$\)' "$series" |
			while read -r p; do cat "$pdir/$p" 2>/dev/null || echo "missing $p"; done
	} | sha256sum | cut -c1-16
}

want=$(digest)
head=$(git -C "$tree" rev-parse HEAD)
base=$(git -C "$tree" rev-parse kvm-scale-base)
if [ -f "$stamp" ]; then
	read -r have_digest have_head < "$stamp"
else
	have_digest=none have_head=$base
fi

if [ "$want" = "$have_digest" ] && [ "$head" = "$have_head" ]; then
	exit 0
fi
if [ "${FORCE:-0}" != 1 ]; then
	if [ -n "$(git -C "$tree" status --porcelain --untracked-files=no)" ]; then
		echo "apply-series: $tree has uncommitted changes; commit and 'make patches'," >&2
		echo "apply-series: or run with FORCE=1 to discard them" >&2
		exit 1
	fi
	if [ "$head" != "$have_head" ] && [ "$head" != "$base" ]; then
		echo "apply-series: $tree has commits that are not in patches/:" >&2
		git -C "$tree" log --oneline "$have_head..$head" >&2 || true
		echo "apply-series: run 'make patches' to export them, or FORCE=1 to drop them" >&2
		exit 1
	fi
fi

git -C "$tree" am --abort >/dev/null 2>&1 || true
git -C "$tree" checkout -q -B kvm-scale kvm-scale-base
git -C "$tree" reset -q --hard kvm-scale-base
n=0
if [ -f "$series" ]; then
	for p in $(grep -v '^[[:space:]]*\(#\|$\)' "$series"); do
		if [ ! -f "$pdir/$p" ]; then
			echo "apply-series: patches/series names '$p', which does not exist" >&2
			exit 1
		fi
		if ! git -C "$tree" am -q --keep-cr "$pdir/$p" >/dev/null 2>&1; then
			git -C "$tree" am --abort >/dev/null 2>&1 || true
			echo "apply-series: patch '$p' does not apply to $(git -C "$tree" describe --tags --always kvm-scale-base)" >&2
			git -C "$tree" am -q --keep-cr "$pdir/$p" 2>&1 | sed 's/^/apply-series:   /' >&2 || true
			git -C "$tree" am --abort >/dev/null 2>&1 || true
			exit 1
		fi
		n=$((n + 1))
	done
fi
echo "$want $(git -C "$tree" rev-parse HEAD)" > "$stamp"
echo "  SERIES  $n patch(es) applied to $tree"
