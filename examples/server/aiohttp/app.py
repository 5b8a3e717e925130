"""Engine.IO echo server on aiohttp.

Run it (HOST and PORT default to 127.0.0.1:5000)::

    python app.py
"""

import os

from aiohttp import web

import engineio_fast as engineio

eio = engineio.AsyncServer(async_mode='aiohttp')
app = web.Application()
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


if __name__ == '__main__':
    web.run_app(
        app, host=os.environ.get('HOST', '127.0.0.1'), port=int(os.environ.get('PORT', '5000'))
    )
