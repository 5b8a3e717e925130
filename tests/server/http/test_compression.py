"""HTTP response compression: ``Accept-Encoding`` negotiation, the threshold,
``Cache-Control`` and ``http_compression=False``."""

from __future__ import annotations

import gzip
import zlib

import pytest
from http_checks import (
    BASE,
)
from raw_clients import (
    PollingClient,
    Response,
)

# -- compression -------------------------------------------------------------------------

BIG = 'x' * 2000  # over the default 1024-byte compression threshold


def echoed(client: PollingClient, accept_encoding: str | None, message: str = BIG) -> Response:
    """POST a message, then GET its echo with this ``Accept-Encoding``."""
    assert client.post('4' + message).body == b'ok'
    headers = {'Accept-Encoding': accept_encoding} if accept_encoding is not None else {}
    response = client.get(headers=headers)
    assert response.status == 200
    return response


def decoded(response: Response) -> str:
    encoding = response.headers.get('Content-Encoding')
    if encoding == 'gzip':
        return gzip.decompress(response.body).decode()
    if encoding == 'deflate':
        return zlib.decompress(response.body).decode()  # RFC 1950 (zlib) format
    assert encoding is None, encoding
    return response.text


@pytest.mark.parametrize(
    ('accept', 'expected'),
    [
        ('gzip', 'gzip'),
        ('deflate', 'deflate'),
        ('gzip, deflate', 'gzip'),
        ('deflate, gzip', 'gzip'),
        ('gzip;q=0, deflate', 'deflate'),
        ('gzip;q=0.4, deflate;q=0.9', 'deflate'),
        ('deflate;q=0.5, gzip;q=0.8', 'gzip'),
        ('gzip;q=0.5, deflate;q=0.5', 'gzip'),
        ('*', 'gzip'),
        ('deflate;q=0.1, *;q=0.9', 'gzip'),
        ('gzip;q=abc, deflate', 'deflate'),
        ('br, deflate', 'deflate'),
        ('gzip;q=0, deflate;q=0', None),
        ('*;q=0', None),
        ('identity', None),
        ('br', None),
        ('', None),
        (None, None),
    ],
)
def test_compression_negotiation(server, accept, expected):
    """H-30, H-32, B-12: q-values honoured, ties by ``compression_methods`` order, ``*`` = gzip."""
    client = PollingClient(server)
    response = echoed(client, accept)
    assert response.headers.get('Content-Encoding') == expected
    assert decoded(response) == '4' + BIG


def test_compression_threshold_and_cache_control(server):
    """H-30, H-33: small responses are sent as is; polling responses carry ``Cache-Control: no-store``."""
    client = PollingClient(server)
    assert client.handshake.headers['Cache-Control'] == 'no-store'
    small = echoed(client, 'gzip', 'small')
    assert small.headers.get('Content-Encoding') is None
    assert small.text == '4small'
    assert small.headers['Cache-Control'] == 'no-store'
    big = echoed(client, 'gzip')
    assert big.headers['Cache-Control'] == 'no-store'
    assert gzip.decompress(big.body).decode() == '4' + BIG


def test_compression_disabled(start_server):
    """H-30, S-01: ``http_compression=False`` never compresses; the level option is accepted."""
    process = start_server(**BASE, http_compression=False)
    response = echoed(PollingClient(process), 'gzip, deflate')
    assert response.headers.get('Content-Encoding') is None
    assert response.text == '4' + BIG
    process = start_server(**BASE, http_compression_level=9, compression_threshold=10)
    response = echoed(PollingClient(process), 'deflate', 'a' * 20)
    assert response.headers['Content-Encoding'] == 'deflate'
    assert decoded(response) == '4' + 'a' * 20
