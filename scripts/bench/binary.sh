# shellcheck shell=bash
# Sourced by the benchmarks: the binary they measure is the one the image ships, built with the
# Dockerfile's flags (release, static Swift runtime, every trait, the multi-call `runnel`), so
# that every benchmark and `scripts/test` share one release build instead of one per trait set.
#
#   bench_binary runnel-batch|runnel-stream   builds if needed, prints the path to call
#   RUNNEL_BENCH_BIN=/path/to/runnel           measures an already built multi-call binary instead

bench_binary() {
    local name="${1:?usage: bench_binary runnel-batch|runnel-stream}"
    local root runnel dir
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    if [ -n "${RUNNEL_BENCH_BIN:-}" ]; then
        runnel="$RUNNEL_BENCH_BIN"
    else
        echo "==> release build of the image binary (the Dockerfile's flags)" >&2
        (cd "$root" && swift build -c release --static-swift-stdlib --enable-all-traits --product runnel >&2)
        runnel="$(cd "$root" && swift build -c release --static-swift-stdlib --enable-all-traits --show-bin-path)/runnel"
    fi
    # The multi-call binary is runnel-batch or runnel-stream by the name it is called with.
    dir="$root/.build/bench-bin"
    mkdir -p "$dir"
    ln -sf "$runnel" "$dir/$name"
    echo "$dir/$name"
}

# For callgrind: a copy of runnel-batch without debug info in DIR/bin (valgrind 3.19 cannot read
# DWARF 5; the symbols stay). Prints its path.
bench_stripped_binary() {
    local dir="${1:?usage: bench_stripped_binary DIR}" bin
    bin="$(bench_binary runnel-batch)"
    mkdir -p "$dir/bin"
    objcopy --strip-debug "$(readlink -f "$bin")" "$dir/bin/runnel-batch"
    echo "$dir/bin/runnel-batch"
}
