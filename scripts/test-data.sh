#!/usr/bin/env bash
# `make test` trains on slices of the real CIFAR-10. Find it by optlab's own look-up order
# (--data, $OPTLAB_DATA, ./data, ../shared/data); when it is nowhere, fetch the official archive
# (MD5-checked) into ./data; when that fails too, stop with one message before the tests are built.
set -uo pipefail
SWIFT=${SWIFT:-swift}
$SWIFT build --product optlab >/dev/null || { echo "make test: building optlab failed" >&2; exit 1; }
optlab="$($SWIFT build --show-bin-path)/optlab"
"$optlab" data info >/dev/null 2>&1 && exit 0
echo "make test: CIFAR-10 not found; fetching it with \`optlab data download\`"
log=$(mktemp); trap 'rm -f "$log"' EXIT
"$optlab" data download 2>"$log" && exit 0
{
    echo "make test: no CIFAR-10, and the download failed: $(tail -n 1 "$log" | sed 's/^Error: //')"
    "$optlab" data info 2>&1 | sed 's/^Error: //'
} >&2
exit 1
