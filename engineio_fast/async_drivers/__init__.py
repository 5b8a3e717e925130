"""Async modes: one module per framework, each exporting an ``_async`` dict.

Sync drivers (threading, eventlet, gevent, gevent_uwsgi) give ``thread``,
``queue``, ``queue_empty``, ``event``, ``sleep`` and ``websocket``: a class
built as ``websocket(handler, server)`` and called as a WSGI app
``ws(environ, start_response)``; it accepts the connection and calls
``handler(ws)``, where ``ws.wait()`` returns a message (str or bytes) or None
once closed, ``ws.send(message)`` and ``ws.close(code=None)``.

Asyncio drivers (asgi, aiohttp, tornado, sanic) give ``asyncio: True`` and:

- ``translate_request(*args)`` (may be a coroutine): the framework's request
  as a WSGI-style environ.  ``environ['wsgi.input'].read(n)`` is a
  coroutine returning at most ``n`` bytes of the body, ``b''`` only at its
  end, so the server can stop reading at its size limit: a
  ``_body.PulledBody`` whose ``pull()`` takes the framework's next chunk.
- ``make_response(status, headers, body, environ)`` (may be a coroutine): the
  framework's response for a ``'200 OK'``-style status, a list of
  ``(name, value)`` str pairs and a bytes body; on a websocket request that
  was refused, it closes the websocket without accepting it.
- ``websocket``: a class built as ``websocket(handler, server)``; ``await
  ws(environ)`` accepts the connection, awaits ``handler(ws)`` and returns
  what ``handle_request`` must return to the framework.  ``await ws.wait()``
  returns a message or None once closed, ``await ws.send(message)``, ``await
  ws.close(code=None)``.  A websocket that can answer without waiting may
  also offer ``wait_now()`` (a message, None once closed, or an awaitable)
  and ``send_now(message)`` (None when done, or an awaitable): the flows use
  them unless ``wait``/``send`` were wrapped on the instance
  (``base_socket.driver_method``; the native transport's websocket does).
- ``create_route(app, server, path)`` where the framework routes requests
  itself (aiohttp, sanic), used by ``AsyncServer.attach``.
"""
#
