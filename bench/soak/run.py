"""Soak run for issue 9: churn of mixed clients with kills, then a leak check.

Usage: ``python bench/soak/run.py [--modes threading asgi] [--minutes 2]
[--processes 4] [--clients 250]``.  For each mode: start tests/helpers/echo_server.py,
read its counters at rest, then for ``--minutes`` keep ``--processes`` node
load processes (tests/node/eio_load.js, ``--clients`` mixed polling /
websocket / upgrading clients each, numbered echoes checked) running,
SIGKILLing one every ``--kill-every`` seconds and starting a fresh one in its
place, and replacing those that finish.  Then every process is let finish,
and the run waits (bounded) until the server's sessions, threads, tasks and
fds are back to the baseline.  One JSON line per mode; exit status 1 if any
client lost, repeated or reordered a message, closed unexpectedly, or the
server did not come back to rest.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tests' / 'helpers'))  # the test helpers, not the repo root

from load_clients import LoadClients, server_rss, server_stats, wait_for_rest  # noqa: E402
from server_process import EchoServerProcess  # noqa: E402


def soak(mode: str, args: argparse.Namespace) -> dict:
    """One mode's run; its result record."""
    server = EchoServerProcess(
        mode,
        ping_interval=args.ping_interval,
        ping_timeout=args.ping_timeout,
        upgrade_timeout=30,
        worker_idle_timeout=1,
    )
    result = {
        'mode': mode,
        'clients': 0,
        'killed': 0,
        'echoed': 0,
        'outOfOrder': 0,
        'lost': 0,
        'unexpectedCloses': {},
        'errors': [],
    }
    config = {
        'clients': args.clients,
        'messages': args.messages,
        'intervalMs': args.interval_ms,
        'rampMs': args.ramp_ms,
        'clientHeartbeat': False,
        'timeoutMs': 600_000,
    }

    def spawn() -> LoadClients:
        result['clients'] += args.clients
        return LoadClients(server.url, **config)

    def account(summary: dict) -> None:
        result['echoed'] += summary['echoed']
        result['outOfOrder'] += summary['outOfOrder']
        result['lost'] += summary['sent'] - summary['echoed']
        for reason, count in summary['closes'].items():
            result['unexpectedCloses'][reason] = result['unexpectedCloses'].get(reason, 0) + count
        result['errors'] += summary['errors'][: 5 - len(result['errors'])]

    running: list[LoadClients] = []
    try:
        baseline = server_stats(server)
        peak = server_rss(server)
        running += [spawn() for _ in range(args.processes)]
        start = time.monotonic()
        next_kill = start + args.kill_every
        while time.monotonic() - start < args.minutes * 60:
            time.sleep(1)
            peak = max(peak, server_rss(server))
            for clients in list(running):
                if 'summary' in clients.events:
                    account(clients.events['summary'])
                    running.remove(clients)
                    running.append(spawn())
            if time.monotonic() >= next_kill:
                victim = running.pop(0)
                victim.kill()
                result['killed'] += args.clients
                running.append(spawn())
                next_kill += args.kill_every
        for clients in running:
            account(
                clients.wait_for('summary', timeout=args.messages * args.interval_ms / 1000 + 120)
            )
        rest = wait_for_rest(server, baseline, timeout=args.ping_interval + args.ping_timeout + 60)
        result.update(
            baseline={k: baseline[k] for k in ('clients', 'threads', 'tasks', 'fds')},
            rest={k: rest[k] for k in ('clients', 'threads', 'tasks', 'fds')},
            rssBaselineMB=round(baseline['rss'] / 2**20, 1),
            rssPeakMB=round(peak / 2**20, 1),
            rssRestMB=round(rest['rss'] / 2**20, 1),
            ok=not (result['outOfOrder'] or result['lost'] or result['unexpectedCloses']),
        )
    except AssertionError as error:
        result.update(ok=False, failure=str(error)[:2000])
    finally:
        for clients in running:
            clients.stop()
        server.stop()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--modes', nargs='+', default=['threading', 'eventlet', 'asgi', 'aiohttp'])
    parser.add_argument('--minutes', type=float, default=2.0)
    parser.add_argument('--processes', type=int, default=4)
    parser.add_argument('--clients', type=int, default=250, help='clients per node process')
    parser.add_argument('--messages', type=int, default=10, help='messages per client')
    parser.add_argument('--interval-ms', type=int, default=2000)
    parser.add_argument('--ramp-ms', type=int, default=5000)
    parser.add_argument('--kill-every', type=float, default=20.0, help='seconds between kills')
    parser.add_argument('--ping-interval', type=float, default=5)
    parser.add_argument('--ping-timeout', type=float, default=15)
    args = parser.parse_args()
    ok = True
    for mode in args.modes:
        result = soak(mode, args)
        print(json.dumps(result), flush=True)
        ok = ok and result['ok']
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
