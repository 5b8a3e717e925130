"""Engine.IO echo server on sanic.

Run it with sanic's command line, in one process (sessions live in its memory)::

    sanic app:app --single-process --host 127.0.0.1 --port 5000

Without ``--single-process`` sanic adds a worker manager process, which here did
not stop on SIGTERM once a client had been connected (with python-engineio too).
"""

from sanic import Sanic

import engineio_fast as engineio

eio = engineio.AsyncServer(async_mode='sanic')
app = Sanic('engineio_echo')
eio.attach(app)  # adds the /engine.io/ routes


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
