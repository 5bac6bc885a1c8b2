#!/usr/bin/env bash
# Fuzzes a target of tests/fuzz, starting from the seeds kept in git.
#
# Usage: tests/fuzz/fuzz.sh [TARGET] [SECONDS] [--seeds]
#   TARGET   a fuzz target in fuzz_targets/ (default genfile)
#   SECONDS  how long to fuzz (default 600)
#   --seeds  afterwards, minimize the working corpus back into
#            seeds/TARGET: few inputs that cover every edge it covers
#
# The working corpus grows in corpus/TARGET (not kept in git): the seeds,
# the example Genfiles and the golden error cases are copied in first.
# Needs cargo-fuzz (cargo install cargo-fuzz); RUSTC_BOOTSTRAP=1 lets the
# pinned stable toolchain build with the sanitizer flags cargo-fuzz passes.
set -euo pipefail

cd "$(dirname "$0")"
TARGET=${1:-genfile}
TIME=${2:-600}
SEEDS=${3:-}
command -v cargo-fuzz >/dev/null || {
    echo "cargo-fuzz is needed: cargo install cargo-fuzz" >&2
    exit 1
}
export RUSTC_BOOTSTRAP=1
# SQLite is compiled into the target; AddressSanitizer's check for one
# definition per global misfires on it.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_odr_violation=0}

CORPUS=corpus/$TARGET
mkdir -p "$CORPUS" "seeds/$TARGET"
# Every target's seeds: a Genfile that exercises the parser is a start for
# generation too.
cp seeds/*/* "$CORPUS"/ 2>/dev/null || true
for f in ../../schemas/*.toml ../golden/*.toml ../errors/*/genfile.toml ../hostile/*/genfile.toml; do
    cp "$f" "$CORPUS/example-$(sha1sum "$f" | cut -c1-16)"
done
DICT=()
if [ -f "$TARGET.dict" ]; then
    DICT=(-dict="$TARGET.dict")
fi

cargo fuzz run --fuzz-dir . "$TARGET" "$CORPUS" -- "${DICT[@]}" -max_total_time="$TIME"

if [ "$SEEDS" = "--seeds" ]; then
    # Edges only (no hit counters), the fewest inputs that cover them
    # (a greedy set cover): a few hundred inputs instead of thousands.
    rm -rf "seeds/$TARGET.new"
    mkdir -p "seeds/$TARGET.new"
    cargo fuzz run --fuzz-dir . "$TARGET" "seeds/$TARGET.new" "$CORPUS" -- \
        -set_cover_merge=1 -use_counters=0 -use_value_profile=0
    rm -rf "seeds/$TARGET"
    mv "seeds/$TARGET.new" "seeds/$TARGET"
    echo "seeds/$TARGET: $(ls "seeds/$TARGET" | wc -l) inputs"
fi
