"""Engine.IO echo server, asgi mode: one ASGI app, two ways to serve it.

With uvicorn (or any ASGI server)::

    uvicorn app:app --host 127.0.0.1 --port 5000

With engineio_fast's own HTTP/WebSocket transport (same options as uvicorn's)::

    python -m engineio_fast serve app:app --host 127.0.0.1 --port 5000
"""

import engineio_fast as engineio

eio = engineio.AsyncServer(async_mode='asgi')
app = engineio.ASGIApp(eio)


@eio.on('connect')
async def connect(sid, environ):
    print('connect', sid, flush=True)


@eio.on('message')
async def message(sid, data):
    print('message', sid, data, flush=True)
    await eio.send(sid, data)


@eio.on('disconnect')
async def disconnect(sid, reason):
    print('disconnect', sid, reason, flush=True)
