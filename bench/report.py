"""Run the codec micro-benchmarks and print speed ratios against python-engineio.

Usage: python bench/report.py [--quick] [--skip-c] [--strict] [--json PATH] [-- PYTEST_ARGS]

Runs ``pytest bench/test_codec.py`` with pytest-benchmark (grouped by
function: each group is one scenario on ``c``, ``py`` and ``upstream``), then
prints markdown tables for the primary group (our codec functions vs.
python-engineio's server work) and the compat group (``Packet``/``Payload``
objects).  A ratio is upstream median time / implementation median time, so
above 1 means faster than python-engineio.  Exits non-zero if any benchmark
failed or errored (including a missing compiled ``_codec_c``) or a result is
missing; with ``--strict`` also if the SPEC K-15 thresholds are not met.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
IMPLS = ('c', 'py', 'upstream')
COMPAT_PREFIX = 'test_compat_'

# SPEC K-15: the micro-benchmarks whose geometric mean must reach 5x, none
# below 1x (the server POST loop lives in test_cycle.py, not here).
K15_SCENARIOS = [
    f'{kind}_{op}'
    for kind in (
        'packet_text',
        'packet_binary',
        'packet_base64',
        'packet_json',
        'payload_binary10',
        'payload_text16',
        'base64_1mb',
    )
    for op in ('encode', 'decode')
]
K15_COMPRESSION = ['gzip_100kb', 'deflate_100kb']

HELP_EPILOG = """\
environment:
  ENGINEIO_FAST_BENCH_SKIP_C=1  leave the compiled backend out (same as --skip-c);
                                without it a missing engineio_fast._codec_c
                                (run `python setup.py build_ext --inplace`)
                                makes the c benchmarks error and the report fail.
"""


def parse_args() -> argparse.Namespace:
    """Command-line options; anything after ``--`` goes to pytest."""
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        epilog=HELP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        '--quick', action='store_true', help='short runs (about 30 s): a smoke test, noisy ratios'
    )
    parser.add_argument('--skip-c', action='store_true', help='benchmark py and upstream only')
    parser.add_argument(
        '--strict', action='store_true', help='also exit non-zero when K-15 thresholds are missed'
    )
    parser.add_argument('--json', metavar='PATH', help='keep the pytest-benchmark JSON here')
    parser.add_argument('pytest_args', nargs='*', help='extra pytest arguments (after --)')
    return parser.parse_args()


def run_pytest(args: argparse.Namespace, json_path: str) -> int:
    """Run the benchmarks in a subprocess, writing pytest-benchmark JSON."""
    max_time, min_rounds = ('0.1', '3') if args.quick else ('0.5', '5')
    command = [
        sys.executable,
        '-m',
        'pytest',
        str(BENCH_DIR / 'test_codec.py'),
        '-q',
        '-p',
        'no:cacheprovider',
        f'--benchmark-json={json_path}',
        '--benchmark-group-by=func',
        '--benchmark-sort=name',
        f'--benchmark-max-time={max_time}',
        f'--benchmark-min-rounds={min_rounds}',
        # Calibrate on a warm function: a cold first call can otherwise look
        # slow enough to pick one iteration per round for a 100 ns workload.
        '--benchmark-warmup=on',
        '--benchmark-warmup-iterations=2000',
        '--benchmark-min-time=0.00002',
        *args.pytest_args,
    ]
    env = dict(os.environ)
    if args.skip_c:
        env['ENGINEIO_FAST_BENCH_SKIP_C'] = '1'
    print('$', ' '.join(command), file=sys.stderr, flush=True)
    # pytest's own output goes to stderr: stdout carries only the markdown.
    return subprocess.call(command, cwd=REPO_ROOT, env=env, stdout=sys.stderr)


def load_medians(json_path: str) -> dict[str, dict[str, float]]:
    """``{test function name: {impl: median seconds}}`` from the JSON file."""
    with open(json_path) as f:
        data = json.load(f)
    medians: dict[str, dict[str, float]] = {}
    for bench in data['benchmarks']:
        func = bench['name'].split('[', 1)[0]
        impl = bench['param']
        medians.setdefault(func, {})[impl] = bench['stats']['median']
    return medians


def harness_floor_ns() -> float:
    """Median cost of pytest-benchmark's loop around a trivial C call, in ns."""
    function, args, kwargs = isinstance, (1, int), {}
    samples = []
    for _ in range(21):
        loops = range(20000)
        start = time.perf_counter()
        for _ in loops:
            function(*args, **kwargs)
        samples.append((time.perf_counter() - start) / 20000)
    samples.sort()
    return samples[len(samples) // 2] * 1e9


def _fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return 'n/a'
    if seconds < 1e-6:
        return f'{seconds * 1e9:.0f} ns'
    if seconds < 1e-3:
        return f'{seconds * 1e6:.1f} µs'
    return f'{seconds * 1e3:.2f} ms'


def _fmt_ratio(ratio: float | None) -> str:
    return 'n/a' if ratio is None else f'{ratio:.2f}x'


def ratios(times: dict[str, float], impl: str) -> float | None:
    """Upstream median / ``impl`` median, or None when either is missing."""
    if impl not in times or 'upstream' not in times:
        return None
    return times['upstream'] / times[impl]


def geomean(values: list[float]) -> float | None:
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def table(rows: dict[str, dict[str, float]], impls: list[str]) -> list[str]:
    """Markdown table of ratios per scenario, then geometric mean and minimum."""
    others = [impl for impl in impls if impl != 'upstream']
    header = ['scenario'] + [f'{impl}/upstream' for impl in others]
    header += [f'{impl} median' for impl in others] + ['upstream median']
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    columns: dict[str, list[float]] = {impl: [] for impl in others}
    for scenario, times in rows.items():
        cells = [scenario]
        for impl in others:
            ratio = ratios(times, impl)
            if ratio is not None:
                columns[impl].append(ratio)
            cells.append(_fmt_ratio(ratio))
        cells += [_fmt_time(times.get(impl)) for impl in others]
        cells.append(_fmt_time(times.get('upstream')))
        lines.append('| ' + ' | '.join(cells) + ' |')
    blank = [''] * (len(others) + 1)
    gm = [f'**{_fmt_ratio(geomean(columns[impl]))}**' for impl in others]
    mn = [f'**{_fmt_ratio(min(columns[impl], default=None))}**' for impl in others]
    lines.append('| **geometric mean** | ' + ' | '.join(gm + blank) + ' |')
    lines.append('| **minimum** | ' + ' | '.join(mn + blank) + ' |')
    return lines


def k15_check(primary: dict[str, dict[str, float]], impls: list[str]) -> tuple[list[str], bool]:
    """Lines stating each K-15 threshold and whether this run meets it."""
    lines = []
    ok = True

    def verdict(label: str, value: float | None, threshold: float) -> None:
        nonlocal ok
        passed = value is not None and value >= threshold
        ok = ok and passed
        mark = 'PASS' if passed else 'FAIL'
        lines.append(f'- {mark}: {label} = {_fmt_ratio(value)} (needs >= {threshold:g}x)')

    core = {name: primary.get(name, {}) for name in K15_SCENARIOS}
    if 'c' in impls:
        c_ratios = [ratios(t, 'c') for t in core.values()]
        complete = None not in c_ratios
        verdict('c geometric mean', geomean(c_ratios) if complete else None, 5)
        verdict('c minimum', min(c_ratios) if complete else None, 1)
        for name in K15_COMPRESSION:
            verdict(f'c {name}', ratios(primary.get(name, {}), 'c'), 10)
    py_all = [ratios(t, 'py') for t in primary.values()]
    verdict('py minimum (all primary scenarios)', None if None in py_all else min(py_all), 1)
    return lines, ok


def main() -> int:
    args = parse_args()
    skip_c = args.skip_c or os.environ.get('ENGINEIO_FAST_BENCH_SKIP_C', '') not in ('', '0')
    impls = [impl for impl in IMPLS if not (skip_c and impl == 'c')]
    with tempfile.TemporaryDirectory() as tmp:
        json_path = args.json or os.path.join(tmp, 'benchmark.json')
        code = run_pytest(args, json_path)
        if not os.path.exists(json_path):
            print('report: pytest wrote no benchmark data', file=sys.stderr)
            return code or 1
        medians = load_medians(json_path)

    primary = {f[5:]: t for f, t in medians.items() if not f.startswith(COMPAT_PREFIX)}
    compat = {f[len(COMPAT_PREFIX) :]: t for f, t in medians.items() if f.startswith(COMPAT_PREFIX)}
    missing = [
        f'{scenario}[{impl}]'
        for group in (primary, compat)
        for scenario, times in group.items()
        for impl in impls
        if impl not in times
    ]

    out = [
        '## Codec functions (what the server calls) vs. python-engineio',
        '',
        *table(primary, impls),
        '',
        '## Compat `Packet`/`Payload` objects vs. python-engineio',
        '',
        *table(compat, impls),
        '',
        'Ratio = upstream median / implementation median (>1 is faster than '
        'python-engineio 4.15.1).',
        f"Harness floor: pytest-benchmark's loop around a trivial C call costs about "
        f'{harness_floor_ns():.0f} ns per call, included in every median.',
        f'Python {sys.version.split()[0]}, {os.cpu_count()} CPUs.',
        '',
        '## SPEC K-15',
        '',
    ]
    k15_lines, k15_ok = k15_check(primary, impls)
    out += k15_lines
    print('\n'.join(out))

    if missing:
        print('report: missing results: ' + ', '.join(missing), file=sys.stderr)
    if code != 0:
        print(f'report: pytest exited with status {code}', file=sys.stderr)
        return code
    if missing:
        return 1
    if args.strict and not k15_ok:
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
