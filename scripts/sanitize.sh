#!/usr/bin/env bash
# Runs the whole test suite under AddressSanitizer, then under ThreadSanitizer, each in its own
# build folder (.build-asan, .build-tsan). Usage: scripts/sanitize.sh [address|thread]...
set -euo pipefail
cd "$(dirname "$0")/.."
# No leak report at exit: Swift's lazily initialised globals and the runtime's caches are reported
# as leaks (LeakSanitizer does not see the globals that hold them).
export ASAN_OPTIONS=detect_leaks=0
# Suppressions, each with its reason, in scripts/tsan.supp.
export TSAN_OPTIONS="suppressions=$PWD/scripts/tsan.supp halt_on_error=1"
for sanitizer in "${@:-address thread}"; do
    for s in $sanitizer; do
        echo "== swift test under the ${s} sanitizer"
        swift test --disable-swift-testing -Xswiftc -sanitize="$s" --scratch-path ".build-${s:0:1}san"
    done
done
