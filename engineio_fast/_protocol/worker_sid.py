"""Session ids that name the worker process which issued them (``worker_id``).

Behind a load balancer every request of a session must reach the process
holding it.  With ``worker_id='w1'`` a server issues sids ``w1.<random>``: a
proxy can route on the ``sid`` query argument (nginx ``map $arg_sid``), and a
worker handed a sid issued by another one can say so in its log instead of a
bare "Invalid session".  ``.`` never occurs in the random part (URL-safe
base64), so the owner is whatever precedes the first one.
"""

from __future__ import annotations

import re

SEPARATOR = '.'
_WORKER_ID = re.compile(r'[A-Za-z0-9_-]{1,32}\Z')


def check_worker_id(worker_id: str | None) -> str | None:
    """``worker_id`` itself when usable in a sid; ValueError otherwise."""
    if worker_id is not None and not (isinstance(worker_id, str) and _WORKER_ID.match(worker_id)):
        raise ValueError('worker_id must be 1 to 32 characters out of A-Z a-z 0-9 _ -')
    return worker_id


def issue(worker_id: str | None, sid: str) -> str:
    """The sid a worker hands out: ``sid`` behind the worker's prefix, if it has one."""
    return sid if worker_id is None else worker_id + SEPARATOR + sid


def owner(sid: str) -> str | None:
    """The worker a sid names, or None for a sid without a worker prefix."""
    prefix, separator, _ = sid.partition(SEPARATOR)
    return prefix if separator and prefix else None


def misrouted(sid: str, worker_id: str | None) -> str | None:
    """The log line for a sid this worker does not hold because another issued it."""
    issuer = owner(sid)
    if issuer is None or issuer == worker_id:
        return None
    return (
        'Invalid session %s: it was issued by worker %s, this is %s; the load '
        'balancer must send every request of a session to the worker that issued it'
        % (sid, issuer, 'worker ' + worker_id if worker_id else 'a worker without worker_id')
    )
