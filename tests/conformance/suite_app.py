"""The echo app the official protocol suite expects, for every HTTP server in tests/conformance.

Configured as the suite's README says (``ping_interval=0.3, ping_timeout=0.2,
max_http_buffer_size=1_000_000, cors_allowed_origins='*'``, path
``/engine.io/``): every message is echoed back, text as text and binary as
binary, except ``"disconnect me"``, which makes the server close the session
(the convention of tests/helpers/echo_server.py).

``SUITE_APP_MODE`` picks the ``async_mode`` (default ``threading``) and so what
the module-level ``app`` is: a WSGI app for the sync modes (``threading``,
``eventlet``, ``gevent``, ``gevent_uwsgi``), an ASGI app for ``asgi``, the
framework's application for ``aiohttp``, ``tornado`` and ``sanic``.  Servers
with a command line load ``suite_app:app``; the others are started with
``python suite_app.py SERVER`` (``werkzeug``, ``eventlet``, ``gevent``,
``aiohttp``, ``tornado``), which listens on 127.0.0.1:3000.

Logging goes to stderr at INFO with the level name on every line, so the
tests can look for ERROR lines; each session's end is logged as
``disconnect <sid> <reason>`` by the ``suite_app`` logger.
"""

import logging
import os
import sys

SERVER = sys.argv[1] if __name__ == '__main__' else None
if SERVER == 'eventlet':
    import eventlet

    eventlet.monkey_patch()
elif SERVER == 'gevent':
    from gevent import monkey

    monkey.patch_all()

import engineio_fast  # noqa: E402

MODE = os.environ.get('SUITE_APP_MODE', 'threading')
HOST, PORT = '127.0.0.1', 3000

logging.basicConfig(level=logging.INFO, format='%(levelname)s:%(name)s:%(message)s')
# At INFO and through the root handler above, so its lines carry their level name.
logging.getLogger('engineio.server').setLevel(logging.INFO)
log = logging.getLogger('suite_app')

OPTIONS = dict(
    async_mode=MODE,
    ping_interval=0.3,
    ping_timeout=0.2,
    max_http_buffer_size=1_000_000,
    cors_allowed_origins='*',
)

if MODE in ('asgi', 'aiohttp', 'tornado', 'sanic'):
    eio = engineio_fast.AsyncServer(**OPTIONS)

    @eio.on('message')
    async def on_message(sid, data):
        if data == 'disconnect me':
            await eio.disconnect(sid)
        else:
            await eio.send(sid, data)

else:
    eio = engineio_fast.Server(**OPTIONS)

    @eio.on('message')
    def on_message(sid, data):
        if data == 'disconnect me':
            eio.disconnect(sid)
        else:
            eio.send(sid, data)


@eio.on('disconnect')
def on_disconnect(sid, reason):
    log.info('disconnect %s %s', sid, reason)


if MODE == 'asgi':
    app = engineio_fast.ASGIApp(eio)
elif MODE == 'aiohttp':
    from aiohttp import web

    app = web.Application()
    eio.attach(app)
elif MODE == 'tornado':
    import tornado.web

    app = tornado.web.Application([(r'/engine.io/', engineio_fast.get_tornado_handler(eio))])
elif MODE == 'sanic':
    from sanic import Sanic

    app = Sanic('suite_app')
    eio.attach(app)
else:
    app = engineio_fast.WSGIApp(eio)


def serve(server: str) -> None:
    """Serve ``app`` on 127.0.0.1:3000 with a server that has no command line of its own."""
    if server == 'werkzeug':
        from werkzeug.serving import run_simple

        run_simple(HOST, PORT, app, threaded=True)
    elif server == 'eventlet':
        from eventlet import wsgi

        wsgi.server(eventlet.listen((HOST, PORT)), app)
    elif server == 'gevent':
        from gevent.pywsgi import WSGIServer

        WSGIServer((HOST, PORT), app).serve_forever()
    elif server == 'aiohttp':
        web.run_app(app, host=HOST, port=PORT)
    elif server == 'tornado':
        import asyncio

        async def main():
            app.listen(PORT, HOST)
            await asyncio.Event().wait()

        asyncio.run(main())
    else:
        raise SystemExit('unknown server %r' % server)


if __name__ == '__main__':
    serve(SERVER)
