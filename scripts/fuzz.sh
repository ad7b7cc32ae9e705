#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/, with AddressSanitizer) and runs each for SECONDS (default 60)
# from its committed seed corpus (Fuzz/corpus/<target>); new inputs go to .build-fuzz/corpus/<target>,
# and a crash, hang or memory blow-up to .build-fuzz/artifacts/<target>/, which fails the run.
# Prints the executions per target. Usage: [FUZZ_SEED=N] scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("${@:-spec formula experiment safetensors cifar archive checkpoint}")
targets=(${targets[*]})
scratch=.build-fuzz
for target in "${targets[@]}"; do
    OPTLAB_FUZZ=1 swift build -c release --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address \
        -Xswiftc -enable-testing --product "fuzz-$target" 2>&1 | grep -v "Cannot export local symbol" | tail -1
done
# No leak checks: Swift's lazily initialised globals (e.g. OptimizerSpec.presets) are reported as
# leaks, LeakSanitizer not seeing the global that holds them; -malloc_limit_mb and -rss_limit_mb still
# catch any input that makes a parser allocate without bound.
export ASAN_OPTIONS=detect_leaks=0
# Swift's own crash handler fails under ASan (it reads memory ASan guards); libFuzzer prints the trace.
export SWIFT_BACKTRACE=enable=no
options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -detect_leaks=0 -print_final_stats=1)
# FUZZ_SEED fixes libFuzzer's mutation sequence (CI sets it, so a run there explores the inputs a
# run here did, as far as its time allows); unset, every run explores afresh.
[ -n "${FUZZ_SEED:-}" ] && options+=(-seed="$FUZZ_SEED")
failed=()
report="$scratch/fuzz-report.txt"
: > "$report"
for target in "${targets[@]}"; do
    mkdir -p "$scratch/corpus/$target" "$scratch/artifacts/$target"
    log="$scratch/fuzz-$target.log"
    if ! "$scratch/release/fuzz-$target" "${options[@]}" -artifact_prefix="$scratch/artifacts/$target/" \
        "$scratch/corpus/$target" "Fuzz/corpus/$target" > "$log" 2>&1; then
        failed+=("$target")
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    printf '%-12s %10s executions in %s s  %s\n' "$target" "${runs:-?}" "$seconds" \
        "$([[ " ${failed[*]} " == *" $target "* ]] && echo "FAILED: see $log" || echo ok)" | tee -a "$report"
done
if ((${#failed[@]})); then
    echo "fuzzing found problems in: ${failed[*]} (inputs in $scratch/artifacts/)" >&2
    exit 1
fi
