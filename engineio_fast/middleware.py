"""WSGI front app: Engine.IO endpoint, then static files, then another WSGI app."""
# H-01

from __future__ import annotations

from typing import IO, Any, Callable, Iterable, Iterator

from .static_files import CHUNK_SIZE, open_static_file

#: WSGI's ``start_response`` and application callables, as this module uses them.
_StartResponse = Callable[..., Any]
_WSGIApplication = Callable[[dict[str, Any], _StartResponse], Iterable[bytes]]

# Bytes read per chunk when streaming a static file (H-09).


class _EventletInput:
    """Holds a raw socket the way eventlet's ``environ['eventlet.input']`` does."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket

    def get_socket(self) -> Any:
        """The wrapped socket."""
        return self.socket


class WSGIApp:
    """WSGI application that routes requests to an Engine.IO server.

    Requests under ``engineio_path`` go to the Engine.IO server; other requests
    are answered from the static file mapping when it has a matching file, then
    passed to ``wsgi_app`` when one is given, and answered with 404 otherwise.

    :param engineio_app: the Engine.IO server (anything with a
                         ``handle_request(environ, start_response)`` method,
                         normally an ``engineio.Server``).
    :param wsgi_app: the WSGI application that receives the other requests.
                     It is read from this attribute on every request, so it
                     can be replaced after the app is built.
    :param static_files: the static file mapping; see
                         :func:`engineio.static_files.get_static_file`.
    :param engineio_path: the URL path of the Engine.IO endpoint. The leading
                          and trailing slashes are optional.

    Example::

        import engineio
        from wsgiref.simple_server import make_server

        eio = engineio.Server(async_mode='threading')
        app = engineio.WSGIApp(eio, static_files={'/': 'index.html'})
        make_server('', 8000, app).serve_forever()
    """

    def __init__(
        self,
        engineio_app: Any,
        wsgi_app: _WSGIApplication | None = None,
        static_files: dict[str, Any] | None = None,
        engineio_path: str = 'engine.io',
    ) -> None:
        self.engineio_app = engineio_app
        self.wsgi_app = wsgi_app
        if not engineio_path.startswith('/'):
            engineio_path = '/' + engineio_path
        if not engineio_path.endswith('/'):
            engineio_path += '/'
        self.engineio_path = engineio_path
        self.static_files = static_files or {}

    def __call__(self, environ: dict[str, Any], start_response: _StartResponse) -> Iterable[bytes]:
        """Handle one WSGI request.

        :param environ: the WSGI environment of the request.
        :param start_response: the WSGI ``start_response`` callable.
        """
        if 'gunicorn.socket' in environ:
            # eventlet's WebSocket support finds the raw socket through
            # environ['eventlet.input'].get_socket(); gunicorn stores the bare
            # socket elsewhere, so expose it the eventlet way too.
            environ['eventlet.input'] = _EventletInput(environ['gunicorn.socket'])
        path = environ.get('PATH_INFO') or ''
        # H-02: '/engine.io' reaches the engine like '/engine.io/'; an empty
        # path is the app root, never the engine (even for engineio_path='/').
        if path.startswith(self.engineio_path) or (path and path == self.engineio_path[:-1]):
            response: Iterable[bytes] = self.engineio_app.handle_request(environ, start_response)
            return response
        if self.static_files:
            static = self._serve_static_file(path, environ, start_response)
            if static is not None:
                return static
        wsgi_app = self.wsgi_app
        if wsgi_app is not None:
            return wsgi_app(environ, start_response)
        return self.not_found(start_response)

    def not_found(self, start_response: _StartResponse) -> list[bytes]:
        """Answer 404 with a plain text body.

        :param start_response: the WSGI ``start_response`` callable.
        """
        start_response('404 Not Found', [('Content-Type', 'text/plain')])
        return [b'Not Found']

    def _serve_static_file(
        self, path: str, environ: dict[str, Any], start_response: _StartResponse
    ) -> Iterable[bytes] | None:
        """Start the response for a mapped static file; None when there is none to send."""
        opened = open_static_file(path, self.static_files)
        if opened is None:
            return None
        f, content_type, size = opened
        try:
            if size <= CHUNK_SIZE:
                # One read: no open file is left for the server to close.
                body = f.read(size)
                f.close()
                start_response('200 OK', _file_headers(content_type, len(body)))
                return [body]
            start_response('200 OK', _file_headers(content_type, size))
        except BaseException:
            f.close()
            raise
        file_wrapper = environ.get('wsgi.file_wrapper')
        if file_wrapper is not None:
            wrapped: Iterable[bytes] = file_wrapper(f, CHUNK_SIZE)
            return wrapped
        return _FileChunks(f, size)


class Middleware(WSGIApp):
    """Deprecated name of :class:`WSGIApp`, without static file support.

    :param engineio_app: the Engine.IO server.
    :param wsgi_app: the WSGI application that receives the other requests.
    :param engineio_path: the URL path of the Engine.IO endpoint.
    """

    def __init__(
        self,
        engineio_app: Any,
        wsgi_app: _WSGIApplication | None = None,
        engineio_path: str = 'engine.io',
    ) -> None:
        super().__init__(engineio_app, wsgi_app, engineio_path=engineio_path)


def _file_headers(content_type: str, length: int) -> list[tuple[str, str]]:
    """Response headers of a static file."""
    return [('Content-Type', content_type), ('Content-Length', str(length))]


class _FileChunks:
    """WSGI body yielding at most ``size`` bytes of a file in chunks.

    A class rather than a generator: the server calls ``close()`` even when it
    never starts iterating, and the file must be closed in that case too.
    """

    # H-09

    def __init__(self, f: IO[bytes], size: int) -> None:
        self._file = f
        # Stopping at ``size`` keeps the body within the Content-Length already
        # sent even if the file grows while it is being streamed.
        self._remaining = size

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._remaining <= 0 or self._file.closed:
            self.close()
            raise StopIteration
        chunk = self._file.read(min(CHUNK_SIZE, self._remaining))
        if not chunk:
            self.close()
            raise StopIteration
        self._remaining -= len(chunk)
        return chunk

    def close(self) -> None:
        """Close the file."""
        self._file.close()
