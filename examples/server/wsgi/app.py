"""Engine.IO echo server, threading mode: a WSGI app for werkzeug or gunicorn.

Run it with werkzeug's development server (HOST and PORT default to 127.0.0.1:5000)::

    python app.py

or with gunicorn's threaded worker, one process (sessions live in its memory)::

    gunicorn -w 1 --threads 100 -b 127.0.0.1:5000 app:app

then connect with ../../client/client.py.
"""

import os

import engineio_fast as engineio

eio = engineio.Server(async_mode='threading')
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
    from werkzeug.serving import run_simple

    host = os.environ.get('HOST', '127.0.0.1')
    run_simple(host, int(os.environ.get('PORT', '5000')), app, threaded=True)
