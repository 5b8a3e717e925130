"""Hostile HTTP requests and WebSocket frames against a live server, with control clients (issue 9).

Usage::

    python bench/fuzz/http_fuzz.py [--modes threading asgi ...] [--count N]
        [--seconds T] [--seed S] [--workers W] [--controls C] [--pause P]

For each mode, starts ``tests/helpers/echo_server.py`` (``max_http_buffer_size``
100 000), connects ``C`` control clients (python-engineio's reference client,
half polling, half upgraded to WebSocket) echoing numbered messages with
a pause of ``P`` seconds after each echo, and has
``W`` threads send random malformed input: requests with mutated queries,
methods, headers (lying or invalid Content-Length, chunked, Content-Encoding),
bodies (mutated packets, invalid UTF-8 and base64, random bytes), truncated or
never-sent bodies; WebSockets (websocket-first or mid-upgrade) fed random
packets and hand-built frames (reserved bits, unknown opcodes, unmasked,
fragments, oversized).  Stops after ``N`` inputs or ``T`` seconds per mode.

Fails (exit 1) when the server dies, answers 5xx, hangs an input past its
bound, logs a traceback through engineio_fast, or a control client loses,
repeats or reorders a message (K-13).  Prints one summary line per mode.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import socket
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tests' / 'helpers'))  # the test helpers, not the repo root

from control_clients import ControlGroup  # noqa: E402
from raw_clients import PollingClient, eio_path  # noqa: E402
from raw_frames import (  # noqa: E402
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_TEXT,
    FrameSocket,
    frame,
    http_head,
    read_answer,
)
from server_process import EchoServerProcess  # noqa: E402

LIMIT = 100_000
#: Bound, in seconds, of one hostile input (its answer or its connection's end).
INPUT_TIMEOUT = 8.0
MODES = ['threading', 'eventlet', 'gevent', 'asgi', 'aiohttp', 'tornado', 'sanic']

PACKETS = [
    b'4hello',
    b'4{"a":[1,2]}',
    b'bAQIDBA==',
    b'3',
    b'6',
    b'1',
    b'2probe',
    b'5',
    b'0',
    b'4\xc3\xa9\xe2\x82\xac',
    b'4a\x1e4b\x1ebAQ==',
]
GARBAGE = [b'', b'\xff\xfe', b'\x1e', b'\x00', b'%', b'b!!', b'9', b'\xed\xa0\x80', b'4' * 300]
METHODS = ['GET', 'POST', 'OPTIONS', 'PUT', 'HEAD', 'DELETE', 'PATCH', 'TRACE', 'FOO', 'get']
QUERY_PARTS = [
    'EIO=4',
    'EIO=3',
    'EIO=%ff',
    'transport=polling',
    'transport=websocket',
    'transport=x',
    'sid=',
    'sid=%00',
    'j=1',
    'j=x',
    't=abc',
    '%zz',
    '&&',
    '=',
]


def mutated(rng: random.Random) -> bytes:
    """A packet sequence, then a few random edits of its bytes."""
    data = bytearray(b'\x1e'.join(rng.choice(PACKETS) for _ in range(rng.randint(1, 4))))
    for _ in range(rng.randint(0, 3)):
        pos = rng.randint(0, len(data))
        if rng.random() < 0.5:
            data[pos:pos] = rng.choice(GARBAGE)
        else:
            del data[pos : pos + rng.randint(1, 3)]
    return bytes(data)


class Fuzzer:
    """Random hostile inputs against one server; counts their outcomes."""

    def __init__(self, server: EchoServerProcess, seed: int):
        self.server = server
        self.port = server.port
        self.seed = seed
        self.outcomes: collections.Counter = collections.Counter()
        self.failures: list[str] = []
        self._lock = threading.Lock()

    def count(self, outcome: str) -> None:
        with self._lock:
            self.outcomes[outcome] += 1

    def fail(self, message: str) -> None:
        with self._lock:
            self.failures.append(message)

    def session(self) -> str | None:
        try:
            return PollingClient(self.server).sid
        except (AssertionError, OSError):
            self.fail('handshake failed')
            return None

    # -- HTTP --------------------------------------------------------------------

    def http_input(self, rng: random.Random) -> None:
        method = rng.choice(METHODS)
        parts = rng.sample(QUERY_PARTS, rng.randint(0, 4))
        if rng.random() < 0.6:
            sid = self.session()
            if sid is None:
                return
            parts = ['transport=polling', 'sid=' + sid] + parts[:1]
            method = rng.choice(['POST', 'POST', 'GET'] + METHODS)
        rng.shuffle(parts)
        path = eio_path() + '?' + '&'.join(parts)
        body = mutated(rng) if rng.random() < 0.8 else os.urandom(rng.randint(1, 2000))
        headers = {}
        shape = rng.choice(['exact', 'exact', 'short', 'long', 'bad', 'chunked', 'huge', 'gzip'])
        if shape == 'exact':
            headers['Content-Length'] = str(len(body))
        elif shape == 'short':
            headers['Content-Length'] = str(max(len(body) - rng.randint(1, 5), 0))
        elif shape == 'long':
            headers['Content-Length'] = str(len(body) + rng.randint(1, 50))
        elif shape == 'bad':
            headers['Content-Length'] = rng.choice(['-1', 'abc', '1e3', ' ', '5, 5'])
        elif shape == 'chunked':
            headers['Transfer-Encoding'] = 'chunked'
            body = b'%x\r\n%s\r\n' % (len(body), body) + rng.choice([b'0\r\n\r\n', b'', b'zz\r\n'])
        elif shape == 'huge':
            headers['Content-Length'] = str(LIMIT * rng.randint(2, 1000))
            body = b''
        else:
            headers['Content-Encoding'] = rng.choice(['gzip', 'deflate', 'br'])
            headers['Content-Length'] = str(len(body))
        if rng.random() < 0.3:
            headers['Content-Type'] = rng.choice(
                ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '\xff']
            )
        head = http_head(method, path, self.port, headers)
        with socket.create_connection(('127.0.0.1', self.port), timeout=INPUT_TIMEOUT) as sock:
            try:
                sock.sendall(head + body)
                if shape != 'huge':
                    sock.shutdown(socket.SHUT_WR)
                answer = read_answer(sock, expect=1, timeout=INPUT_TIMEOUT)
            except AssertionError:
                self.fail('no answer within %.0fs: %r' % (INPUT_TIMEOUT, head + body[:200]))
                return
            except OSError:
                self.count('http: connection reset')
                return
        if not answer.responses:
            self.count('http: closed without answer')
        for status, _, answer_body in answer.responses:
            self.count('http %d' % status)
            if status >= 500:
                self.fail('%d for %r: %r' % (status, head + body[:200], answer_body[:200]))

    # -- WebSocket -----------------------------------------------------------------

    def websocket_input(self, rng: random.Random) -> None:
        try:
            if rng.random() < 0.3:
                sid = self.session()
                if sid is None:
                    return
                ws = FrameSocket(self.port, eio_path(EIO=4, transport='websocket', sid=sid))
                if rng.random() < 0.5:
                    ws.send(frame(OP_TEXT, b'2probe'))
            else:
                ws = FrameSocket(self.port, eio_path(EIO=4, transport='websocket'))
        except (AssertionError, OSError) as exc:
            self.fail('websocket handshake failed: %r' % exc)
            return
        try:
            for _ in range(rng.randint(1, 5)):
                ws.send(self.random_frame(rng))
            ws.send(frame(OP_CLOSE, b'\x03\xe8'))
            ended = ws.wait_end(INPUT_TIMEOUT)
            self.count('ws close %s' % ended)
            if ended is not None and not 1000 <= ended < 5000:
                # Not a close code: HTTP bytes (21584 = 'TP') written on a websocket.
                self.fail('close code %d: the connection carried something else' % ended)
        except AssertionError:
            self.fail('websocket still open %.0fs after a close frame' % INPUT_TIMEOUT)
        except OSError:
            self.count('ws reset')
        finally:
            ws.close()

    def random_frame(self, rng: random.Random) -> bytes:
        kind = rng.random()
        payload = mutated(rng)
        if kind < 0.5:
            return frame(OP_TEXT, payload)
        if kind < 0.6:
            return frame(OP_BINARY, payload)
        if kind < 0.7:
            return frame(OP_TEXT, payload, fin=False) + frame(OP_CONTINUATION, payload)
        if kind < 0.75:
            return frame(OP_TEXT, b'4' + b'x' * (LIMIT + 1))
        if kind < 0.8:
            return frame(OP_PING, payload[:125])
        return frame(
            rng.choice([OP_TEXT, 3, 7, 11, OP_CONTINUATION]),
            payload,
            fin=rng.random() < 0.8,
            rsv=rng.randint(0, 7),
            masked=rng.random() < 0.8,
        )

    def worker(self, index: int, deadline: float, budget: list[int]) -> None:
        rng = random.Random('%d-%d' % (self.seed, index))
        while time.monotonic() < deadline and not self.failures:
            with self._lock:
                if budget[0] <= 0:
                    return
                budget[0] -= 1
            if rng.random() < 0.6:
                self.http_input(rng)
            else:
                self.websocket_input(rng)


def engine_tracebacks(stderr: str) -> list[str]:
    """Logged tracebacks of exceptions raised in engineio_fast code (innermost frame ours).

    A framework re-raising a body error the engine already answered (aiohttp
    draining a request's payload) passes through our frames but is not ours.
    """
    found = []
    for block in stderr.split('Traceback (most recent call last):')[1:]:
        frames = [line for line in block.splitlines() if line.startswith('  File "')]
        if frames and 'engineio_fast/' in frames[-1]:
            found.append(block)
    return found


def run_mode(mode: str, args: argparse.Namespace) -> bool:
    server = EchoServerProcess(
        mode, ping_interval=5, ping_timeout=5, max_http_buffer_size=LIMIT, async_handlers=False
    )
    fuzzer = Fuzzer(server, args.seed)
    started = time.monotonic()
    try:
        kinds = ['polling', 'websocket'] * (args.controls // 2)
        controls = ControlGroup(server.url, kinds, pause=args.pause)
        budget = [args.count]
        deadline = started + args.seconds
        workers = [
            threading.Thread(target=fuzzer.worker, args=(n, deadline, budget), daemon=True)
            for n in range(args.workers)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(args.seconds + 60)
        try:
            controls.progress()
            controls.stop()
        except AssertionError as exc:
            fuzzer.fail('control clients: %s' % exc)
        if server.process.poll() is not None:
            fuzzer.fail('server exited with %s' % server.process.returncode)
        tracebacks = engine_tracebacks(server.stderr)
        if tracebacks:
            fuzzer.fail(
                '%d tracebacks through engineio_fast in the server log, the first:%s'
                % (len(tracebacks), tracebacks[0][-3000:])
            )
        inputs = sum(fuzzer.outcomes.values())
        echoes = controls.total()
    finally:
        server.stop()
    elapsed = time.monotonic() - started
    verdict = 'FAIL' if fuzzer.failures else 'ok'
    print(
        '%s %s: %d inputs in %.0f s, %d control echoes; %s'
        % (verdict, mode, inputs, elapsed, echoes, dict(sorted(fuzzer.outcomes.items())))
    )
    for failure in fuzzer.failures[:10]:
        print('  ', failure)
    return not fuzzer.failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--modes', nargs='+', default=MODES)
    parser.add_argument('--count', type=int, default=2000, help='inputs per mode')
    parser.add_argument('--seconds', type=float, default=60, help='time bound per mode')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--workers', type=int, default=4)
    parser.add_argument('--controls', type=int, default=10)
    parser.add_argument('--pause', type=float, default=0.1, help='seconds between control echoes')
    args = parser.parse_args()
    results = [run_mode(mode, args) for mode in args.modes]
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
