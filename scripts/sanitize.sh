#!/usr/bin/env bash
# Runs the whole test suite under AddressSanitizer, then under ThreadSanitizer, each in its own
# build folder (.build-asan, .build-tsan); the optlab binary that OptlabTests run is built with the
# same sanitizer. Usage: scripts/sanitize.sh [address|thread]...
set -euo pipefail
cd "$(dirname "$0")/.."
# No leak report at exit: Swift's lazily initialised globals and the runtime's caches are reported
# as leaks (LeakSanitizer does not see the globals that hold them). Swift's own crash handler is
# off: it faults under the sanitizers, which print their own reports.
export ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no
# Suppressions, each with its reason, in scripts/tsan.supp.
export TSAN_OPTIONS="suppressions=$PWD/scripts/tsan.supp halt_on_error=1"
for sanitizer in ${@:-address thread}; do
    echo "== swift test under the $sanitizer sanitizer"
    # Under ThreadSanitizer a training run is about ten times slower: the kill test kills 6 runs
    # (each kind of kill in each epoch once) instead of 25, which would take hours on 2 cores.
    kills=25
    [ "$sanitizer" = thread ] && kills=6
    OPTLAB_TEST_KILLS=$kills swift test --disable-swift-testing -Xswiftc -sanitize="$sanitizer" --scratch-path ".build-${sanitizer:0:1}san"
done
