"""Socket.IO echo server: Flask-SocketIO in threading mode, running on engineio_fast.

engineio_fast.install() must run before flask_socketio is imported, so that
python-socketio's ``import engineio`` gets engineio_fast.  Run it
(HOST and PORT default to 127.0.0.1:5000) with::

    python flask_app.py

For production, serve ``app`` with gunicorn instead:
``gunicorn -w 1 --threads 100 -b 127.0.0.1:5000 flask_app:app``.
"""

import engineio_fast

engineio_fast.install()

import os  # noqa: E402

from flask import Flask, request  # noqa: E402
from flask_socketio import SocketIO, emit  # noqa: E402

app = Flask(__name__)
socketio = SocketIO(app, async_mode='threading')


@socketio.on('connect')
def connect():
    print('connect', request.sid, 'engineio_fast installed:', engineio_fast.installed(), flush=True)


@socketio.on('echo')
def echo(data):
    print('echo', request.sid, data, flush=True)
    emit('echo', data)  # to the sender only


@socketio.on('disconnect')
def disconnect(reason):
    print('disconnect', request.sid, reason, flush=True)


if __name__ == '__main__':
    host = os.environ.get('HOST', '127.0.0.1')
    port = int(os.environ.get('PORT', '5000'))
    # werkzeug's development server: Flask-SocketIO refuses it without a terminal
    # unless told that this is intended.
    socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True)
