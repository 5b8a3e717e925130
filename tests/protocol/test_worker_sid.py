"""Worker-prefixed session ids (``engineio_fast._protocol.worker_sid``): plain strings only.

F-16 worker ids, P-08 sid alphabet, P-21 misrouted sids are invalid sessions.
"""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engineio_fast._protocol import worker_sid

WORKER_IDS = st.text('ABCXYZabcxyz0189_-', min_size=1, max_size=32)
#: A P-08 sid: 15 bytes in URL-safe base64, so never a '.'.
RANDOM_SIDS = st.binary(min_size=15, max_size=15).map(
    lambda raw: base64.urlsafe_b64encode(raw).decode()
)


@pytest.mark.parametrize('worker_id', [None, 'w1', 'a', 'A-z_0-9', 'x' * 32])
def test_check_worker_id_returns_a_usable_id(worker_id):
    """F-16: 1 to 32 of A-Z a-z 0-9 _ -, or None for no prefix."""
    assert worker_sid.check_worker_id(worker_id) == worker_id


@pytest.mark.parametrize(
    'worker_id',
    ['', 'x' * 33, 'w.1', 'w 1', 'w/1', 'w1\n', 'caf\u00e9', '\uff57', 1, b'w1', ['w1']],
    ids=[
        'empty',
        'too-long',
        'dot',
        'space',
        'slash',
        'trailing-newline',
        'non-ascii',
        'fullwidth',
        'int',
        'bytes',
        'list',
    ],
)
def test_check_worker_id_refuses_what_cannot_prefix_a_sid(worker_id):
    """F-16: anything else is a ValueError naming the allowed alphabet."""
    with pytest.raises(ValueError, match=r'^worker_id must be 1 to 32 characters out of'):
        worker_sid.check_worker_id(worker_id)


def test_issue_prefixes_the_sid_with_the_worker_id():
    """F-16: '<worker_id>.<random>'; no worker_id leaves the sid as generated."""
    assert worker_sid.issue('w1', 'abc') == 'w1.abc'
    assert worker_sid.issue(None, 'abc') == 'abc'


@pytest.mark.parametrize(
    'sid, expected',
    [
        ('w1.abc', 'w1'),
        ('w1.a.b', 'w1'),
        ('abc', None),
        ('.abc', None),
        ('w1.', 'w1'),
        ('', None),
    ],
)
def test_owner_is_what_precedes_the_first_dot(sid, expected):
    """F-16: the issuing worker, or None for a sid without a prefix."""
    assert worker_sid.owner(sid) == expected


@given(worker_id=WORKER_IDS, sid=RANDOM_SIDS)
def test_owner_of_an_issued_sid_is_its_issuer(worker_id, sid):
    """F-16, P-08: the random part never holds a '.', so the prefix always comes back."""
    assert worker_sid.owner(worker_sid.issue(worker_id, sid)) == worker_id
    assert worker_sid.owner(worker_sid.issue(None, sid)) is None


@pytest.mark.parametrize(
    'sid, worker_id',
    [('w1.abc', 'w1'), ('abc', 'w1'), ('abc', None), ('.abc', 'w2')],
    ids=['own-sid', 'unprefixed', 'unprefixed-no-worker-id', 'empty-prefix'],
)
def test_not_misrouted_when_this_worker_issued_it_or_nobody_is_named(sid, worker_id):
    """P-21, F-16: a plain 'Invalid session', no routing log line."""
    assert worker_sid.misrouted(sid, worker_id) is None


def test_misrouted_names_both_workers():
    """F-16: the log line names the issuer and this worker and says what to fix."""
    assert worker_sid.misrouted('w1.abc', 'w2') == (
        'Invalid session w1.abc: it was issued by worker w1, this is worker w2; the load '
        'balancer must send every request of a session to the worker that issued it'
    )


def test_misrouted_on_a_worker_without_worker_id():
    """F-16: a server without worker_id still recognises another worker's sid."""
    line = worker_sid.misrouted('w1.abc', None)
    assert line is not None
    assert 'issued by worker w1, this is a worker without worker_id;' in line
