"""Engine.IO echo server, gevent mode, on gevent's pywsgi server.

Run it (HOST and PORT default to 127.0.0.1:5000)::

    python gevent_app.py

WebSockets go through simple-websocket, so plain pywsgi is enough: no
gevent-websocket handler is needed.
"""

from gevent import monkey

monkey.patch_all()  # first, before anything imports socket or threading

import os  # noqa: E402

from gevent.pywsgi import WSGIServer  # noqa: E402

import engineio_fast as engineio  # noqa: E402

eio = engineio.Server(async_mode='gevent')
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
    WSGIServer(address, app).serve_forever()
