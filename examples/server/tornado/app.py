"""Engine.IO echo server on tornado.

Run it (HOST and PORT default to 127.0.0.1:5000)::

    python app.py
"""

import asyncio
import os

import tornado.web

import engineio_fast as engineio

eio = engineio.AsyncServer(async_mode='tornado')
app = tornado.web.Application([(r'/engine.io/', engineio.get_tornado_handler(eio))])


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


async def main():
    app.listen(int(os.environ.get('PORT', '5000')), os.environ.get('HOST', '127.0.0.1'))
    await asyncio.Event().wait()  # serve until the process is stopped


if __name__ == '__main__':
    try:
        asyncio.run(main())
    except KeyboardInterrupt:  # Ctrl-C
        pass
