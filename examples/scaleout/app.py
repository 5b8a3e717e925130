"""One worker of the scale-out example: python-socketio on engineio_fast, Redis between workers.

Every worker process runs this same application with its own ``WORKER_ID``
(``w1``, ``w2``, ...) and the deployment's ``REDIS_URL``:

- ``worker_id=WORKER_ID`` makes engineio_fast issue session ids
  ``<WORKER_ID>.<random>``, which nginx routes on (see docs/scaling.md);
- the Redis client manager carries broadcasts and room emits to the other
  workers, each of which delivers them to its own clients.

Serve it with one of (deploy.py does, on free ports)::

    WORKER_ID=w1 REDIS_URL=redis://127.0.0.1:6379/0 \\
        uvicorn --factory app:make_asgi --port 8001              # asyncio
    WORKER_ID=w2 REDIS_URL=redis://127.0.0.1:6379/0 \\
        gunicorn -k gthread --threads 100 -w 1 -b 127.0.0.1:8002 'app:make_wsgi()'   # threads

Events (the acknowledgement in brackets): ``whoami`` [``{worker, pid, sid, eio_sid, transport}``],
``echo *args`` [the args], ``join room`` ["joined"], ``to_room room payload``
(``room_msg {room, payload, from}`` to the room, from every worker) and
``broadcast payload`` (``bcast {payload, from}`` to everyone) ["sent"].
"""

from __future__ import annotations

import engineio_fast

engineio_fast.install()  # before socketio imports engineio

import os  # noqa: E402

import socketio  # noqa: E402

WORKER_ID = os.environ.get('WORKER_ID', 'w1')
REDIS_URL = os.environ.get('REDIS_URL', 'redis://127.0.0.1:6379/0')


def _options() -> dict:
    """The server options every worker shares."""
    return {'worker_id': WORKER_ID, 'cors_allowed_origins': '*'}


def whoami(sio, sid: str) -> dict:
    """Where a client landed: this worker, and its Socket.IO and Engine.IO sids."""
    eio_sid = sio.manager.eio_sid_from_sid(sid, '/')
    transport = sio.transport(sid)
    return {'worker': WORKER_ID, 'pid': os.getpid(), 'sid': sid, 'eio_sid': eio_sid,
            'transport': transport}  # fmt: skip


def make_asgi() -> socketio.ASGIApp:
    """An ``AsyncServer`` with ``AsyncRedisManager``, as an ASGI app (uvicorn)."""
    sio = socketio.AsyncServer(
        async_mode='asgi', client_manager=socketio.AsyncRedisManager(REDIS_URL), **_options()
    )

    @sio.on('whoami')
    async def on_whoami(sid):
        return whoami(sio, sid)

    @sio.on('echo')
    async def on_echo(sid, *args):
        return args

    @sio.on('join')
    async def on_join(sid, room):
        await sio.enter_room(sid, room)
        return 'joined'

    @sio.on('to_room')
    async def on_to_room(sid, room, payload):
        await sio.emit('room_msg', {'room': room, 'payload': payload, 'from': WORKER_ID}, to=room)
        return 'sent'

    @sio.on('broadcast')
    async def on_broadcast(sid, payload):
        await sio.emit('bcast', {'payload': payload, 'from': WORKER_ID})
        return 'sent'

    return socketio.ASGIApp(sio)


def make_wsgi() -> socketio.WSGIApp:
    """A threading-mode ``Server`` with ``RedisManager``, as a WSGI app (gunicorn gthread)."""
    sio = socketio.Server(
        async_mode='threading', client_manager=socketio.RedisManager(REDIS_URL), **_options()
    )

    @sio.on('whoami')
    def on_whoami(sid):
        return whoami(sio, sid)

    @sio.on('echo')
    def on_echo(sid, *args):
        return args

    @sio.on('join')
    def on_join(sid, room):
        sio.enter_room(sid, room)
        return 'joined'

    @sio.on('to_room')
    def on_to_room(sid, room, payload):
        sio.emit('room_msg', {'room': room, 'payload': payload, 'from': WORKER_ID}, to=room)
        return 'sent'

    @sio.on('broadcast')
    def on_broadcast(sid, payload):
        sio.emit('bcast', {'payload': payload, 'from': WORKER_ID})
        return 'sent'

    return socketio.WSGIApp(sio)
