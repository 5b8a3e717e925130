"""Settings and checks shared by the HTTP-layer tests (tests/server/http, test_hostile.py)."""

from __future__ import annotations

from raw_clients import TIMEOUT, Response, assert_error, eio_path, http_request
from server_process import ASYNC_MODES

#: Echo-server options of the HTTP tests: message handlers run inline
#: (``async_handlers=False``) so an echo is queued before its POST is answered,
#: the ping interval (5 s) is long enough that no ping lands in a response a
#: test reads, and ``logger=True`` sends warnings to stderr (H-41..H-43).
BASE = {'ping_interval': 5, 'ping_timeout': 5, 'async_handlers': False, 'logger': True}

BAD_VERSION = 'The client is using an unsupported version of the Socket.IO or Engine.IO protocols'
HANDSHAKE = eio_path(EIO=4, transport='polling')


def assert_origin_refused(response: Response, process, origin: str) -> None:
    """H-10: a refused Origin; the async server names the origin, as python-engineio's does."""
    if process.mode in ASYNC_MODES:
        assert_error(response, 400, origin + ' is not an accepted origin.')
    else:
        assert_error(response, 400, 'Not an accepted origin.')


def assert_json_error(response: Response, status: int, code: int) -> None:
    """A ``error_format='json'`` refusal (F-06): ``{"code", "message"}``, ``application/json``."""
    assert response.status == status, (response.status, response.body)
    assert response.headers['Content-Type'] == 'application/json'
    body = response.json()
    assert list(body) == ['code', 'message'], body
    assert body['code'] == code, body
    assert isinstance(body['message'], str) and body['message'], body


def closed_for(process, sid: str, reason: str) -> None:
    """The session was closed with ``reason`` and later requests are refused."""
    process.wait_for_event(event='disconnect', sid=sid, reason=reason)
    response = http_request(
        process.port, 'GET', eio_path(EIO=4, transport='polling', sid=sid), timeout=TIMEOUT
    )
    assert_error(response, 400, 'Invalid session %s' % sid)
