"""Engine.IO echo server, eventlet mode, on eventlet's own WSGI server.

Run it (HOST and PORT default to 127.0.0.1:5000)::

    python eventlet_app.py

eventlet is deprecated upstream; prefer threading (app.py) or gevent for new code.
"""

import eventlet

eventlet.monkey_patch()  # first, before anything imports socket or threading

import os  # noqa: E402

from eventlet import wsgi  # noqa: E402

import engineio_fast as engineio  # noqa: E402

eio = engineio.Server(async_mode='eventlet')
app = engineio.WSGIApp(eio)


@eio.on('connect')
def connect(sid, environ):
    print('connect', sid, flush=True)


@eio.on('message')
def message(sid, data):
    print('message', sid, data, flush=True)
    eio.send(sid, data)


@eio.on('disconnect')
def disconnect(sid, reason):
    print('disconnect', sid, reason, flush=True)


if __name__ == '__main__':
    address = (os.environ.get('HOST', '127.0.0.1'), int(os.environ.get('PORT', '5000')))
    wsgi.server(eventlet.listen(address), app)
