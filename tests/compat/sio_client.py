"""python-socketio clients on engineio_fast (via ``install()``) driven by a JSON scenario.

Usage: ``python tests/compat/sio_client.py sync|async '<scenario JSON>'``.  The
twin of tests/node/sio_client.js: same scenario steps, same output lines (see
that file's header), with python-socketio's ``Client`` (``sync``) or
``AsyncClient`` (``async``).  The first line reports the Engine.IO client class
python-socketio built (``{"event": "engine", "class": ...}``).  Disconnect
reasons are python-socketio's (``client disconnect``, ``server disconnect``).
"""

from __future__ import annotations

import engineio_fast

engineio_fast.install()  # before socketio imports engineio

import asyncio  # noqa: E402
import base64  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import socketio  # noqa: E402

EXIT_DONE, EXIT_FATAL, EXIT_TIMEOUT = 0, 1, 2

_lock = threading.Lock()
_finished = False
#: The step being run, for the ``timeout`` line (an index, or "cleanup").
_step: list = [-1]


def emit(**event: Any) -> None:
    with _lock:
        if not _finished:
            print(json.dumps(event), flush=True)


def finish(code: int, **event: Any) -> None:
    """Print the final line and leave at once (client threads may still run)."""
    global _finished
    with _lock:
        if _finished:
            return
        _finished = True
        print(json.dumps(event), flush=True)
    os._exit(code)


def encode(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {'$bin': base64.b64encode(bytes(value)).decode()}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    return value


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(item) for item in value]
    if isinstance(value, dict):
        if list(value) == ['$bin']:
            return base64.b64decode(value['$bin'])
        return {key: decode(item) for key, item in value.items()}
    return value


class Connection:
    """One python-socketio client and what it received, per namespace."""

    def __init__(self, name: str, sio: Any):
        self.name = name
        self.sio = sio
        self.received: dict[tuple[str, str], int] = {}
        self.connected: set[str] = set()
        self.settled: set[str] = set()
        self.disconnected: set[str] = set()

    def register(self, ns: str) -> None:
        """Record connect, connect_error, disconnect and every event on ``ns``."""
        name = self.name

        def on_connect():
            self.connected.add(ns)
            self.settled.add(ns)
            emit(event='connect', client=name, ns=ns)

        def on_connect_error(data=None):
            data = data if isinstance(data, dict) else {'message': data}
            self.settled.add(ns)
            emit(
                event='connect_error',
                client=name,
                ns=ns,
                message=data.get('message'),
                data=encode(data.get('data')),
            )

        def on_disconnect(reason=None):
            self.connected.discard(ns)
            self.disconnected.add(ns)
            emit(event='disconnect', client=name, ns=ns, reason=reason)

        def on_any(event, *args):
            emit(event='recv', client=name, ns=ns, name=event, args=encode(args))
            self.received[ns, event] = self.received.get((ns, event), 0) + 1

        self.sio.on('connect', on_connect, namespace=ns)
        self.sio.on('connect_error', on_connect_error, namespace=ns)
        self.sio.on('disconnect', on_disconnect, namespace=ns)
        self.sio.on('*', on_any, namespace=ns)


def connection_args(scenario: dict, step: dict) -> dict:
    return {
        'url': scenario['url'],
        'namespaces': step.get('namespaces', ['/']),
        'auth': step.get('auth', {}),
        'transports': step.get('transports', scenario.get('transports', ['polling', 'websocket'])),
        'wait_timeout': 10,
        'retry': False,
    }


class SyncRunner:
    """Runs the steps with ``socketio.Client``; waits poll the recorded state."""

    def __init__(self, scenario: dict):
        self.scenario = scenario
        self.clients: dict[str, Connection] = {}

    def until(self, check) -> None:
        # The process-wide deadline (main) bounds every wait.
        while not check():
            time.sleep(0.01)

    def connect(self, step: dict) -> None:
        name = step.get('client', 'a')
        conn = Connection(name, socketio.Client(reconnection=False))
        self.clients[name] = conn
        args = connection_args(self.scenario, step)
        for ns in args['namespaces']:
            conn.register(ns)
        try:
            conn.sio.connect(**args)
        except socketio.exceptions.ConnectionError:
            pass  # the connect_error handler reported it
        self.until(lambda: conn.settled >= set(args['namespaces']))

    def disconnect(self, conn: Connection) -> None:
        live = set(conn.connected)
        if conn.sio.connected:
            conn.sio.disconnect()
        self.until(lambda: conn.disconnected >= live)

    def run_step(self, step: dict) -> None:
        op, ns = step['op'], step.get('ns', '/')
        if op == 'connect':
            return self.connect(step)
        if op == 'sleep':
            return time.sleep(step.get('ms', 0) / 1000)
        conn = self.clients[step.get('client', 'a')]
        if op == 'emit':
            args = tuple(decode(step.get('args', [])))
            if not step.get('ack'):
                return conn.sio.emit(step['event'], args, namespace=ns)
            done = threading.Event()
            reply: list = []

            def callback(*response):
                reply.extend(response)
                done.set()

            conn.sio.emit(step['event'], args, namespace=ns, callback=callback)
            self.until(done.is_set)
            emit(event='ack', client=conn.name, ns=ns, name=step['event'], args=encode(reply))
        elif op == 'wait':
            key, count = (ns, step['event']), step.get('count', 1)
            self.until(lambda: conn.received.get(key, 0) >= count)
        elif op == 'wait_disconnect':
            self.until(lambda: ns in conn.disconnected)
        elif op == 'wait_upgrade':
            self.until(lambda: conn.sio.transport() == 'websocket')
        elif op == 'disconnect':
            self.disconnect(conn)
        elif op == 'transport':
            emit(event='transport', client=conn.name, name=conn.sio.transport())
        else:
            raise ValueError('unknown op %r' % op)
        return None

    def run(self) -> None:
        for index, step in enumerate(self.scenario.get('steps', [])):
            _step[0] = index
            self.run_step(step)
        _step[0] = 'cleanup'
        for conn in self.clients.values():
            self.disconnect(conn)


class AsyncRunner:
    """The same steps with ``socketio.AsyncClient``."""

    def __init__(self, scenario: dict):
        self.scenario = scenario
        self.clients: dict[str, Connection] = {}

    async def until(self, check) -> None:
        while not check():
            await asyncio.sleep(0.01)

    async def connect(self, step: dict) -> None:
        name = step.get('client', 'a')
        conn = Connection(name, socketio.AsyncClient(reconnection=False))
        self.clients[name] = conn
        args = connection_args(self.scenario, step)
        for ns in args['namespaces']:
            conn.register(ns)
        try:
            await conn.sio.connect(**args)
        except socketio.exceptions.ConnectionError:
            pass  # the connect_error handler reported it
        await self.until(lambda: conn.settled >= set(args['namespaces']))

    async def disconnect(self, conn: Connection) -> None:
        live = set(conn.connected)
        if conn.sio.connected:
            await conn.sio.disconnect()
        await self.until(lambda: conn.disconnected >= live)

    async def run_step(self, step: dict) -> None:
        op, ns = step['op'], step.get('ns', '/')
        if op == 'connect':
            return await self.connect(step)
        if op == 'sleep':
            return await asyncio.sleep(step.get('ms', 0) / 1000)
        conn = self.clients[step.get('client', 'a')]
        if op == 'emit':
            args = tuple(decode(step.get('args', [])))
            if not step.get('ack'):
                return await conn.sio.emit(step['event'], args, namespace=ns)
            done = asyncio.Event()
            reply: list = []

            def callback(*response):
                reply.extend(response)
                done.set()

            await conn.sio.emit(step['event'], args, namespace=ns, callback=callback)
            await done.wait()
            emit(event='ack', client=conn.name, ns=ns, name=step['event'], args=encode(reply))
        elif op == 'wait':
            key, count = (ns, step['event']), step.get('count', 1)
            await self.until(lambda: conn.received.get(key, 0) >= count)
        elif op == 'wait_disconnect':
            await self.until(lambda: ns in conn.disconnected)
        elif op == 'wait_upgrade':
            await self.until(lambda: conn.sio.transport() == 'websocket')
        elif op == 'disconnect':
            await self.disconnect(conn)
        elif op == 'transport':
            emit(event='transport', client=conn.name, name=conn.sio.transport())
        else:
            raise ValueError('unknown op %r' % op)
        return None

    async def run(self) -> None:
        for index, step in enumerate(self.scenario.get('steps', [])):
            _step[0] = index
            await self.run_step(step)
        _step[0] = 'cleanup'
        for conn in self.clients.values():
            await self.disconnect(conn)


def main() -> None:
    kind, scenario = sys.argv[1], json.loads(sys.argv[2])
    deadline = threading.Timer(
        scenario.get('timeoutMs', 20000) / 1000,
        lambda: finish(EXIT_TIMEOUT, event='timeout', step=_step[0]),
    )
    deadline.daemon = True
    deadline.start()
    engine = type((socketio.Client() if kind == 'sync' else socketio.AsyncClient()).eio)
    emit(event='engine', **{'class': '%s.%s' % (engine.__module__, engine.__qualname__)})
    try:
        if kind == 'sync':
            SyncRunner(scenario).run()
        else:
            asyncio.run(AsyncRunner(scenario).run())
    except Exception as exc:  # reported as a line, like the node twin
        finish(EXIT_FATAL, event='fatal', message='%s: %s' % (type(exc).__name__, exc))
    finish(EXIT_DONE, event='done')


if __name__ == '__main__':
    main()
