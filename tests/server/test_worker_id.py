"""``worker_id``: session ids that name their worker, misrouted requests (issue 10, P-08, P-21).

Two echo servers play two workers of one deployment, ``w1`` and ``w2``; a
session opened on one is used on the other, as a load balancer without
sticky routing would.  The sid logic lives in the shared core, so one sync
and one asyncio mode cover it.
"""

from __future__ import annotations

import re

import pytest
from raw_clients import (
    PollingClient,
    RawWebSocket,
    eio_path,
    http_request,
    wait_for_stderr,
    websocket_handshake,
)
from server_process import _selected

import engineio_fast

SID = re.compile(r'w1\.[A-Za-z0-9_-]{20}\Z')
#: Bound of a refused request: a misrouted sid is answered at once, never left hanging.
ANSWER_TIMEOUT = 5.0


@pytest.fixture(scope='module', params=_selected(['threading', 'asgi', 'native']))
def server_mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope='module')
def w1(start_server):
    return start_server(worker_id='w1')


@pytest.fixture(scope='module')
def w2(start_server):
    return start_server(worker_id='w2')


def misrouted_line(sid: str, here: str) -> str:
    return 'Invalid session %s: it was issued by worker w1, this is %s' % (sid, here)


def test_sids_start_with_the_worker_id(w1):
    """Polling and websocket-first handshakes both issue ``w1.<20 chars>`` (P-08)."""
    polling = PollingClient(w1)
    assert SID.match(polling.sid), polling.sid
    ws, opened = RawWebSocket.connect(w1.port)
    try:
        assert SID.match(opened['sid']), opened
    finally:
        ws.close()
    # the prefixed sid is a working session id
    assert polling.post('4hello').status == 200
    assert polling.get_until(['4hello']) == ['4hello']


def test_misrouted_sid_is_a_400_with_a_log_line(w1, w2):
    """GET, POST and upgrade with w1's sid at w2: 400 at once, and w2 says why (P-21)."""
    sid = PollingClient(w1).sid
    path = eio_path(EIO=4, transport='polling', sid=sid)
    get = http_request(w2.port, 'GET', path, timeout=ANSWER_TIMEOUT)
    post = http_request(w2.port, 'POST', path, body='4x', timeout=ANSWER_TIMEOUT)
    upgrade = websocket_handshake(w2.port, eio_path(EIO=4, transport='websocket', sid=sid))
    for response in (get, post, upgrade):
        assert response.status == 400, (response.status, response.body)
        assert response.json() == 'Invalid session %s' % sid
    wait_for_stderr(w2, misrouted_line(sid, 'worker w2'))
    # the session itself is untouched on its own worker
    owner = http_request(w1.port, 'POST', path, body='4still here')
    assert owner.status == 200
    assert 'must send every request of a session to the worker that issued it' in w2.stderr


def test_unknown_sid_of_the_worker_itself_is_not_called_misrouted(w1):
    """A stale sid of this very worker (a restart, a closed session) is a plain 400."""
    sid = 'w1.' + 'A' * 20
    response = http_request(w1.port, 'GET', eio_path(EIO=4, transport='polling', sid=sid))
    assert response.status == 400 and response.json() == 'Invalid session %s' % sid
    wait_for_stderr(w1, 'Invalid session %s' % sid)
    assert 'Invalid session %s:' % sid not in w1.stderr


def test_worker_without_worker_id_names_the_issuer(w1, start_server):
    """A server without ``worker_id`` still recognises another worker's sid."""
    plain = start_server()
    sid = PollingClient(w1).sid
    response = http_request(plain.port, 'GET', eio_path(EIO=4, transport='polling', sid=sid))
    assert response.status == 400
    wait_for_stderr(plain, misrouted_line(sid, 'a worker without worker_id'))
    assert '.' not in PollingClient(plain).sid  # no worker_id, no prefix


@pytest.mark.parametrize('bad', ['', 'w.1', 'w 1', 'w/1', 'x' * 33, 7])
def test_worker_id_must_fit_in_a_sid(bad):
    for server_class in (engineio_fast.Server, engineio_fast.AsyncServer):
        with pytest.raises(ValueError, match='worker_id'):
            server_class(worker_id=bad)
