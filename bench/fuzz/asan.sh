#!/usr/bin/env bash
# Builds the compiled codec with AddressSanitizer into a scratch copy of the
# package and runs the differential fuzzer on it (K-12: no out-of-bounds
# access).  Usage: bash bench/fuzz/asan.sh [fuzz_codec.py arguments]
# Needs gcc's libasan (Debian: libasan8, installed with gcc) and Cython.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-python3}
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
cp -r "$ROOT/engineio_fast" "$ROOT/setup.py" "$ROOT/pyproject.toml" "$ROOT/README.md" "$SCRATCH/"
rm -f "$SCRATCH"/engineio_fast/*.so "$SCRATCH"/engineio_fast/*.c
cd "$SCRATCH"
CFLAGS="-fsanitize=address -fno-omit-frame-pointer -O1 -g" LDFLAGS="-fsanitize=address" \
    ENGINEIO_FAST_BUILD_EXTENSION=yes "$PYTHON" setup.py -q build_ext --inplace
LIBASAN=$(gcc -print-file-name=libasan.so)
echo "fuzzing the ASan build ($LIBASAN)"
# Python's allocator is not instrumented: use malloc so ASan sees every block.
PYTHONMALLOC=malloc ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 LD_PRELOAD="$LIBASAN" \
    PYTHONPATH="$SCRATCH" "$PYTHON" "$ROOT/bench/fuzz/fuzz_codec.py" "$@"
