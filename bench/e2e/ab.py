"""A/B of two engineio_fast installs on the end-to-end scenarios (a refactor must not slow us down).

Usage::

    python bench/e2e/ab.py --old-python OLD/bin/python --new-python NEW/bin/python
                           [--rounds 5] [--scenarios NAME ...] [--modes MODE ...]
                           [--duration 3] [--warmup 0.5]

Each interpreter has its own engineio_fast installed (for example the
commit before a change in one virtualenv, the change in another, both with
the compiled extension) and the server dependencies of bench/e2e/run.py.
Servers, pinning and the load generator are run.py's; only engineio_fast
runs (no python-engineio, no bare server), old and new alternating within
every round (old first in odd rounds), so drift of the machine hits both
alike.  The table gives new/old throughput and old/new server CPU per
message (> 1: the new install is faster), medians over rounds, and each
round's throughput ratio to show the spread.  Run it twice with the same
interpreter for both sides to see this machine's noise.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402 - bench/e2e/run.py, beside this file

SIDES = ('old', 'new')
DEFAULT_SCENARIOS = ('ws_echo_10', 'polling_echo_10', 'polling_connect', 'broadcast_100')


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--old-python', required=True)
    parser.add_argument('--new-python', required=True)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument(
        '--scenarios', nargs='+', choices=list(run.SCENARIO_BY_NAME), default=DEFAULT_SCENARIOS
    )
    parser.add_argument('--modes', nargs='+', choices=run.MODES, default=list(run.DEFAULT_MODES))
    parser.add_argument('--duration', type=float, default=3.0)
    parser.add_argument('--warmup', type=float, default=0.5)
    parser.add_argument('--broadcast', choices=('loop', 'many'), default='many')
    return parser.parse_args(argv)


def measure(args: argparse.Namespace) -> dict[tuple[str, str, str], list[dict]]:
    """Every round's load-generator results, keyed (scenario, mode, side)."""
    settings = {
        side: run.Settings(
            python=getattr(args, side + '_python'),
            rounds=1,
            warmup=args.warmup,
            duration=args.duration,
            scenarios=[],
            modes=args.modes,
            server_cpu='1',
            load_cpu='0',
            broadcast=args.broadcast,
            ws=run.WS_IMPL,
        )
        for side in SIDES
    }
    results: dict[tuple[str, str, str], list[dict]] = {}
    for round_no in range(args.rounds):
        order = SIDES if round_no % 2 == 0 else SIDES[::-1]
        for name in args.scenarios:
            for mode in args.modes:
                for side in order:
                    result = run.run_one(settings[side], run.SCENARIO_BY_NAME[name], mode, 'fast')
                    error = result['error'].splitlines()[0] if 'error' in result else ''
                    print(
                        '[round %d/%d] %-16s %-9s %s %s %s'
                        % (
                            round_no + 1,
                            args.rounds,
                            name,
                            mode,
                            side,
                            result.get('msgsPerSec'),
                            error,
                        ),
                        file=sys.stderr,
                        flush=True,
                    )
                    results.setdefault((name, mode, side), []).append(result)
    return results


def table(args: argparse.Namespace, results: dict) -> list[str]:
    """The markdown table of new-versus-old ratios."""

    def values(key: tuple, metric: str) -> list[float]:
        return [r[metric] for r in results.get(key, []) if r.get(metric) is not None]

    def med(key: tuple, metric: str) -> float | None:
        found = values(key, metric)
        return statistics.median(found) if found else None

    lines = [
        '| scenario | server | throughput new/old | server CPU per msg old/new | per round new/old '
        '| old msgs/s | other CPU % max |',
        '|---|---|---|---|---|---|---|',
    ]
    for name in args.scenarios:
        for mode in args.modes:
            old, new = ((name, mode, side) for side in SIDES)
            rounds = [
                '%.2f' % (n / o) if o and n else '-'
                for o, n in zip(
                    [r.get('msgsPerSec') for r in results.get(old, [])],
                    [r.get('msgsPerSec') for r in results.get(new, [])],
                    strict=True,
                )
            ]
            other = values(old, 'otherCpuPct') + values(new, 'otherCpuPct')
            lines.append(
                '| %s | %s | %s | %s | %s | %s | %s |'
                % (
                    name,
                    mode,
                    run.ratio(med(new, 'msgsPerSec'), med(old, 'msgsPerSec')),
                    run.ratio(med(old, 'serverCpuUsPerMsg'), med(new, 'serverCpuUsPerMsg')),
                    ' '.join(rounds),
                    run.fmt(med(old, 'msgsPerSec'), '%.0f'),
                    run.fmt(max(other, default=None), '%.0f'),
                )
            )
    return lines


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    if not (run.HERE / 'node_modules' / 'ws').is_dir():
        sys.exit('node dependencies missing: run  npm ci --prefix bench/e2e')
    results = measure(args)
    print('\n'.join(table(args, results)))
    errors = sum('error' in r for runs in results.values() for r in runs)
    command = 'python bench/e2e/ab.py ' + ' '.join(argv)
    print('\n%d rounds, %d errors; command: %s' % (args.rounds, errors, command))


if __name__ == '__main__':
    main(sys.argv[1:])
