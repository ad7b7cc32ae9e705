#!/usr/bin/env bash
# Runs the whole test suite under AddressSanitizer, then under ThreadSanitizer, each in its own
# build folder (.build-asan, .build-tsan). Usage: scripts/sanitize.sh [address|thread]...
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
    skip=()
    # OptlabTests read the output of optlab child processes to its end; under ThreadSanitizer the
    # symbolizer process it starts inherits those pipes, so the end never comes and the suite hangs.
    # The binary's code is the libraries', which the other suites run under ThreadSanitizer.
    [ "$sanitizer" = thread ] && skip=(--skip OptlabTests)
    swift test --disable-swift-testing -Xswiftc -sanitize="$sanitizer" --scratch-path ".build-${sanitizer:0:1}san" "${skip[@]}"
done
