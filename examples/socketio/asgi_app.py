"""Socket.IO echo server: python-socketio's AsyncServer running on engineio_fast.

engineio_fast.install() must run before socketio is imported, so that
python-socketio's ``import engineio`` gets engineio_fast.  Run it with::

    uvicorn asgi_app:app --host 127.0.0.1 --port 5000

(``python -m engineio_fast serve asgi_app:app`` serves the same app.)
"""

import engineio_fast

engineio_fast.install()

import socketio  # noqa: E402

sio = socketio.AsyncServer(async_mode='asgi')
app = socketio.ASGIApp(sio)


@sio.event
async def connect(sid, environ):
    print('connect', sid, 'engineio_fast installed:', engineio_fast.installed(), flush=True)


@sio.event
async def echo(sid, data):
    print('echo', sid, data, flush=True)
    await sio.emit('echo', data, to=sid)


@sio.event
async def disconnect(sid, reason):
    print('disconnect', sid, reason, flush=True)
