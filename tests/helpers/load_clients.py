"""Load clients and server introspection for the fault and load tests.

``LoadClients`` runs ``tests/node/eio_load.js`` (many engine.io-client
sockets in one node process, every message numbered and checked) and reads
its event lines; ``server_stats`` asks the echo server for its counters
(sessions, threads, tasks, fds, RSS) and ``wait_for_rest`` waits until they
are back to a baseline.  Used by tests/server/test_faults.py and
bench/soak/run.py; every wait is bounded.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from typing import Any

from children import NODE_DIR, node_executable
from raw_clients import RawWebSocket
from server_process import EchoServerProcess

EIO_LOAD = NODE_DIR / 'eio_load.js'

#: Client c of a load process uses MIXED_TRANSPORTS[c % 3]: polling only,
#: websocket only, polling upgraded to websocket.
MIXED_TRANSPORTS = [['polling'], ['websocket'], ['polling', 'websocket']]

#: Counters that must come back to their resting value once clients are gone.
REST_COUNTERS = ('clients', 'threads', 'tasks', 'fds')


class LoadClients:
    """One ``eio_load.js`` process; ``config`` keys are documented in that script."""

    def __init__(self, url: str, **config: Any):
        config = {'url': url, 'transports': MIXED_TRANSPORTS, **config}
        self.process = subprocess.Popen(
            [node_executable(), str(EIO_LOAD), json.dumps(config)],
            cwd=NODE_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.events: dict[str, dict] = {}
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            with self._changed:
                self.events[event.get('event')] = event
                self._changed.notify_all()
        with self._changed:  # the output ended: waiters stop waiting
            self._changed.notify_all()

    def wait_for(self, name: str, timeout: float) -> dict:
        """The event line ``name`` (``opened``, ``echoing``, ``summary``); bounded."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while name not in self.events:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._reader.is_alive():
                    raise AssertionError(
                        'no %r from eio_load.js within %.0fs; got %r; stderr: %s'
                        % (name, timeout, self.events, self._stderr())
                    )
                self._changed.wait(min(remaining, 0.5))
            return self.events[name]

    def _stderr(self) -> str:
        if self.process.poll() is None:
            return '(still running)'
        return self.process.stderr.read()[-2000:]

    def kill(self) -> None:
        """SIGKILL: every socket of the process drops without a close."""
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.kill()


def server_stats(server: EchoServerProcess) -> dict:
    """The echo server's counters, asked for over a websocket session of its own.

    That session is counted too (one client, its tasks and fds); a baseline
    taken the same way compares like with like.
    """
    ws, _ = RawWebSocket.connect(server.port)
    try:
        ws.send('4stats')
        while True:
            frame = ws.recv_message()
            if isinstance(frame, str) and frame.startswith('4{'):
                return json.loads(frame[1:])
    finally:
        ws.close()


def server_rss(server: EchoServerProcess) -> int:
    """Resident set size of the server process in bytes, read from /proc."""
    with open('/proc/%d/status' % server.process.pid) as status:
        line = next(line for line in status if line.startswith('VmRSS:'))
    return int(line.split()[1]) * 1024


def wait_for_rest(server: EchoServerProcess, baseline: dict, timeout: float) -> dict:
    """Wait until sessions, threads, tasks and fds are back to ``baseline``; the stats.

    Counters may end below the baseline (idle worker threads retire); an
    AssertionError names what stayed above it.
    """
    deadline = time.monotonic() + timeout
    while True:
        stats = server_stats(server)
        above = {key: stats[key] for key in REST_COUNTERS if stats[key] > baseline[key]}
        if not above:
            return stats
        if time.monotonic() > deadline:
            raise AssertionError(
                'after %.0fs the server still holds %r (baseline %r)' % (timeout, above, baseline)
            )
        time.sleep(0.5)
