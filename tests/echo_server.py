"""An Engine.IO echo server for the tests, started in its own process.

Usage: ``python tests/echo_server.py MODE [--option=value ...]``; prints
``PORT <n>`` once it listens on 127.0.0.1 and serves until killed.  Options
are Server keyword arguments given as JSON values (``--ping_interval=0.3``).
Messages are echoed; a message ``"disconnect me"`` makes the server close the
session, and ``"stats"`` answers with a JSON object of the server's counters.
Every lifecycle event is also printed as a JSON line on stdout, so tests can
assert disconnect reasons.
"""

import json
import sys

MODE = sys.argv[1]
if MODE == 'eventlet':
    import eventlet

    eventlet.monkey_patch()
elif MODE == 'gevent':
    from gevent import monkey

    monkey.patch_all()

import engineio_fast  # noqa: E402


def _options() -> dict:
    options = {'async_mode': MODE}
    for arg in sys.argv[2:]:
        name, _, value = arg[2:].partition('=')
        options[name] = json.loads(value)
    if isinstance(options.get('ping_interval'), list):
        options['ping_interval'] = tuple(options['ping_interval'])
    return options


def report(**event) -> None:
    print(json.dumps(event), flush=True)


eio = engineio_fast.Server(**_options())


@eio.on('connect')
def on_connect(sid, environ):
    report(event='connect', sid=sid, remote=environ.get('REMOTE_ADDR'))
    if environ.get('QUERY_STRING', '').find('refuse=1') >= 0:
        return False
    return None


@eio.on('message')
def on_message(sid, data):
    if data == 'disconnect me':
        eio.disconnect(sid)
    elif data == 'stats':
        eio.send(sid, {'clients': eio.clients_count})
    else:
        eio.send(sid, data)


@eio.on('disconnect')
def on_disconnect(sid, reason):
    report(event='disconnect', sid=sid, reason=reason)


def serve_threading(app):
    from werkzeug.serving import WSGIRequestHandler, make_server

    WSGIRequestHandler.log_request = lambda *args, **kwargs: None
    server = make_server('127.0.0.1', 0, app, threaded=True)
    print('PORT', server.server_port, flush=True)
    server.serve_forever()


def serve_eventlet(app):
    from eventlet import wsgi

    sock = eventlet.listen(('127.0.0.1', 0))
    print('PORT', sock.getsockname()[1], flush=True)
    wsgi.server(sock, app, log_output=False)


def serve_gevent(app):
    from gevent.pywsgi import WSGIServer

    server = WSGIServer(('127.0.0.1', 0), app, log=None)
    server.start()
    print('PORT', server.server_port, flush=True)
    server.serve_forever()


if __name__ == '__main__':
    app = eio.handle_request
    {'threading': serve_threading, 'eventlet': serve_eventlet, 'gevent': serve_gevent}[MODE](app)
