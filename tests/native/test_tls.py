"""TLS on the native server (issue 17): ``serve(..., ssl_certfile=, ssl_keyfile=)``.

A self-signed certificate for 127.0.0.1 is made in the test with the
``cryptography`` package; the clients verify against it.  An Engine.IO
handshake over https, a wss websocket echo, and the scheme the app sees.
"""

from __future__ import annotations

import datetime
import http.client
import ipaddress
import json
import ssl

import pytest
import websocket
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from native_clients import NativeApp, RawHttp, request
from raw_clients import SEP, TIMEOUT


@pytest.fixture(scope='module')
def certificate(tmp_path_factory) -> tuple[str, str]:
    """``(certfile, keyfile)``: a self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, '127.0.0.1')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp('tls')
    certfile, keyfile = folder / 'cert.pem', folder / 'key.pem'
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(certfile), str(keyfile)


@pytest.fixture(scope='module')
def app(certificate):
    certfile, keyfile = certificate
    process = NativeApp(certfile=certfile, keyfile=keyfile)
    yield process
    process.stop()


@pytest.fixture(scope='module')
def context(certificate) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certificate[0])


def https_get(app: NativeApp, context: ssl.SSLContext, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPSConnection('127.0.0.1', app.port, timeout=TIMEOUT, context=context)
    try:
        conn.request('GET', path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_an_engineio_handshake_over_https(app, context):
    status, body = https_get(app, context, '/engine.io/?EIO=4&transport=polling')
    assert status == 200
    open_packet = body.decode().split(SEP)[0]
    assert open_packet.startswith('0')
    sid = json.loads(open_packet[1:])['sid']
    connect = app.wait_for_event(event='connect', sid=sid)
    assert connect['scheme'] == 'https'


def test_a_wss_websocket_echoes(app, certificate):
    ws = websocket.create_connection(
        'wss://127.0.0.1:%d/engine.io/?EIO=4&transport=websocket' % app.port,
        timeout=TIMEOUT,
        sslopt={'ca_certs': certificate[0], 'cert_reqs': ssl.CERT_REQUIRED},
    )
    try:
        first = ws.recv()
        assert first.startswith('0')
        sid = json.loads(first[1:])['sid']
        ws.send('4over tls')
        assert ws.recv() == '4over tls'
        assert app.wait_for_event(event='connect', sid=sid)['scheme'] == 'https'
    finally:
        ws.close()


def test_the_other_app_sees_https_and_wss(app, context, certificate):
    status, body = https_get(app, context, '/info')
    assert status == 200
    assert json.loads(body)['scheme'] == 'https'
    ws = websocket.create_connection(
        'wss://127.0.0.1:%d/chat' % app.port,
        timeout=TIMEOUT,
        sslopt={'ca_certs': certificate[0], 'cert_reqs': ssl.CERT_REQUIRED},
    )
    try:
        ws.send('secure')
        assert ws.recv() == 'secure'
    finally:
        ws.close()


def test_pipelined_requests_over_tls_are_answered_in_order(app, context):
    client = RawHttp(app.port, context=context)
    try:
        client.send(request('GET', '/one') + request('GET', '/stream?n=2') + request('GET', '/two'))
        assert client.response().body == b'other /one'
        assert client.response().body == b'chunk 0\nchunk 1\n'
        assert client.response().body == b'other /two'
    finally:
        client.close()


def test_plain_http_on_the_tls_port_is_not_served(app):
    client = RawHttp(app.port)
    try:
        client.send(request('GET', '/info'))
        assert client.closed_within(TIMEOUT) is not None
        assert b'other' not in client.buffer and b'"path"' not in client.buffer
    finally:
        client.close()
