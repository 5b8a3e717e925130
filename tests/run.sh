#!/usr/bin/env bash
# Installs everything the tests need into fresh virtualenvs and runs the suite:
#   1. the manylinux wheel and the sdist (tests/build_dist.sh); the installed wheel
#      (a failed extension build is fatal) runs everything, both codec backends;
#   2. the same install forced to the pure twin at run time;
#   3. a separate pure-Python build (ENGINEIO_FAST_NO_EXTENSIONS=1 at build time):
#      codec, imports, API and the protocol suite.
# The documentation site (docs/) is built in the first venv with warnings as errors.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}
WORK=${ENGINEIO_FAST_TEST_DIR:-$ROOT/.venv-test}
PYTEST_ARGS=(-p no:cacheprovider -q "$@")

fresh_venv() {
    # A stale build/ from the other kind of build would leak into the wheel.
    rm -rf "$1" "$ROOT/build"
    "$PYTHON" -m venv "$1"
    "$1/bin/python" -m pip install -q --upgrade pip
}

echo "== compiled build =="
(cd "$ROOT/tests/node" && npm ci --no-audit --no-fund --silent)
# The demo's browser test drives Debian's headless chromium (tests/demo).
command -v chromium >/dev/null || {
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
}
# The scale-out test (tests/scaleout) runs Debian's nginx and redis-server as its children.
command -v nginx >/dev/null && command -v redis-server >/dev/null || {
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx redis-server
}
# The release artefacts: a manylinux wheel (auditwheel-repaired) and an sdist
# checked to install without Cython; the suite then runs on the installed wheel.
DIST=$(bash "$ROOT/tests/build_dist.sh" "$WORK/dist" | tail -n 2)
WHEEL=$(echo "$DIST" | head -n 1)
fresh_venv "$WORK/compiled"
"$WORK/compiled/bin/python" -m pip install -q "$WHEEL[test]"
# Quality gates on the source tree, not the installed wheel: lint, format and the
# type check ([tool.mypy] in pyproject.toml; strict on the public modules).
cd "$ROOT"
"$WORK/compiled/bin/ruff" check engineio_fast tests bench examples
"$WORK/compiled/bin/ruff" format --check engineio_fast tests bench examples
"$WORK/compiled/bin/mypy" "$ROOT/engineio_fast"
# The documentation site, offline (no intersphinx, no remote assets), any warning fatal;
# a fresh output folder, so warnings of unchanged pages are not hidden by a cached build.
# The docs and the benchmark's chart drawing (bench/test_charts.py, below) need matplotlib.
"$WORK/compiled/bin/python" -m pip install -q "$WHEEL[docs,bench]"
rm -rf "$WORK/docs-html"
"$WORK/compiled/bin/sphinx-build" -q -W --keep-going -b html "$ROOT/docs" "$WORK/docs-html"
# Run from outside the source tree so the installed package is imported.
cd "$WORK"
"$WORK/compiled/bin/python" -c 'import engineio_fast, sys; print("USE_EXTENSIONS =", engineio_fast.USE_EXTENSIONS); sys.exit(0 if engineio_fast.USE_EXTENSIONS else 1)' \
    || { echo "compiled backend did not build" >&2; exit 1; }
"$WORK/compiled/bin/pytest" "$ROOT/tests" --rootdir "$ROOT" "${PYTEST_ARGS[@]}"
# The benchmark's chart drawing, in a session of its own: bench/conftest.py puts the
# source checkout first on sys.path, which must not reach the suite above.
"$WORK/compiled/bin/pytest" "$ROOT/bench/test_charts.py" --rootdir "$ROOT" "${PYTEST_ARGS[@]}"

echo "== compiled build, twin forced at run time =="
# Every server mode ran above; the codec is the same in all of them, so one
# sync and one async mode cover the pure twin, and the native mode its own
# framing twin (_ws_py).  The HTTP-server matrix and the upstream suites run
# once, above.
ENGINEIO_FAST_NO_EXTENSIONS=1 ENGINEIO_FAST_TEST_MODES="threading asgi native" "$WORK/compiled/bin/pytest" "$ROOT/tests" --rootdir "$ROOT" \
    --ignore="$ROOT/tests/conformance" --ignore="$ROOT/tests/compat/test_upstream_suites.py" \
    --no-c-extensions "${PYTEST_ARGS[@]}"

echo "== pure-Python build =="
fresh_venv "$WORK/pure"
ENGINEIO_FAST_NO_EXTENSIONS=1 "$WORK/pure/bin/python" -m pip install -q "$ROOT[test]"
"$WORK/pure/bin/python" -c 'import engineio_fast, sys; sys.exit(1 if engineio_fast.USE_EXTENSIONS else 0)' \
    || { echo "pure build still has the extension" >&2; exit 1; }
# The forced-twin leg above already ran every server test on the pure codec;
# this leg checks that a build without the extension installs and works.
"$WORK/pure/bin/pytest" "$ROOT/tests/codec" "$ROOT/tests/protocol" "$ROOT/tests/test_imports.py" "$ROOT/tests/server/test_api.py" \
    "$ROOT/tests/server/test_protocol_suite.py" --rootdir "$ROOT" --no-c-extensions "${PYTEST_ARGS[@]}"
