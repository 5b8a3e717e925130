"""Many python-socketio ``Client`` connections in one process, driven line by line on stdin.

Usage: ``python tests/scaleout/sio_swarm.py '{"url": ..., "timeoutMs": 60000}'``.  The
twin of tests/node/sio_swarm.js (see its header for the commands and output
lines), on python-socketio's sync ``Client`` over engineio_fast
(``install()``), reconnecting after losses.
"""

from __future__ import annotations

import engineio_fast

engineio_fast.install()  # before socketio imports engineio

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402

import socketio  # noqa: E402

ACK_TIMEOUT = 10.0

_lock = threading.Lock()
_finished = False


def emit(**event) -> None:
    with _lock:
        if not _finished:
            print(json.dumps(event), flush=True)


def finish(code: int, **event) -> None:
    """Print the last line and leave at once (client threads may still run)."""
    global _finished
    with _lock:
        if _finished:
            return
        _finished = True
        print(json.dumps(event), flush=True)
    os._exit(code)


class Swarm:
    """The connections, by name."""

    def __init__(self, url: str):
        self.url = url
        self.clients: dict[str, socketio.Client] = {}

    def connect(self, name: str, transports: list[str]) -> None:
        sio = socketio.Client(reconnection_delay=0.2, reconnection_delay_max=1)
        self.clients[name] = sio
        sio.on('connect', lambda: emit(event='connect', client=name, sid=sio.eio.sid))
        sio.on('disconnect', lambda reason: emit(event='disconnect', client=name, reason=reason))
        sio.on('*', lambda event, *args: emit(event='recv', client=name, name=event, args=args))
        sio.connect(self.url, transports=transports, auth={'name': name}, wait_timeout=10)

    def emit(self, name: str, event: str, args: list, ack_id: int) -> None:
        try:
            reply = self.clients[name].call(event, tuple(args), timeout=ACK_TIMEOUT)
        except socketio.exceptions.SocketIOError as exc:
            emit(event='ack_error', client=name, id=ack_id, message=repr(exc))
            return
        emit(
            event='ack',
            client=name,
            id=ack_id,
            args=list(reply) if isinstance(reply, tuple) else [reply],
        )

    def run(self, command: dict) -> None:
        op = command['op']
        if op == 'connect':
            self.connect(command['client'], command.get('transports', ['polling', 'websocket']))
        elif op == 'emit':
            self.emit(command['client'], command['event'], command.get('args', []), command['id'])
        else:
            raise ValueError('unknown op %r' % op)


def main() -> None:
    config = json.loads(sys.argv[1])
    deadline = threading.Timer(
        config.get('timeoutMs', 60000) / 1000, finish, (2,), {'event': 'timeout'}
    )
    deadline.daemon = True
    deadline.start()
    swarm = Swarm(config['url'])

    def run(command: dict) -> None:
        try:
            swarm.run(command)
        except Exception as exc:  # reported as a line, like the node twin
            finish(1, event='fatal', message='%s: %s' % (type(exc).__name__, exc))

    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        if command['op'] == 'quit':
            for sio in list(swarm.clients.values()):
                sio.disconnect()
            break
        # connect and call block: every command on its own thread
        threading.Thread(target=run, args=(command,), daemon=True).start()
    finish(0, event='done')


if __name__ == '__main__':
    main()
