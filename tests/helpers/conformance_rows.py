"""The HTTP servers users deploy on: one row each, started as the user would start it.

Each row is the command line (run in tests/conformance, so ``suite_app`` is
importable) and the ``SUITE_APP_MODE`` of suite_app.py.  ``deflate`` is what
the row's websocket does with a client offering ``permessage-deflate``:
whether the extension is negotiated (asserted by test_servers.py, and stated
in the "Tested HTTP servers" table of docs/serving/index.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
ADDRESS = '127.0.0.1:3000'

#: gunicorn removed its eventlet worker in 26.0; that row runs an older gunicorn
#: installed here (outside the virtualenv) and first on that process's PYTHONPATH.
OLD_GUNICORN = 'gunicorn<26'


def _old_gunicorn_dir(tmp_path_factory: Any) -> list[str]:
    cache = Path(os.environ.get('XDG_CACHE_HOME', Path.home() / '.cache'))
    target = cache / 'engineio_fast-tests' / ('gunicorn-lt26-py%d%d' % sys.version_info[:2])
    if not (target / 'gunicorn' / 'workers' / 'geventlet.py').is_file():
        proc = subprocess.run(
            [
                sys.executable,
                '-m',
                'pip',
                'install',
                '--quiet',
                '--no-deps',
                '--upgrade',
                '--target',
                str(target),
                OLD_GUNICORN,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                'pip install %r failed:\n%s%s' % (OLD_GUNICORN, proc.stdout, proc.stderr)
            )
    return [str(target)]


@dataclass(frozen=True)
class Row:
    id: str
    #: The command; its first word is a script of the virtualenv (or ``python``).
    command: tuple[str, ...]
    mode: str
    deflate: bool
    env: dict = field(default_factory=dict)
    needs_old_gunicorn: bool = False

    def argv(self) -> list[str]:
        first = sys.executable if self.command[0] == 'python' else str(BIN / self.command[0])
        return [first, *self.command[1:]]

    def prepare(self, tmp_path_factory: Any) -> list[str]:
        """Entries to put first on the process's PYTHONPATH."""
        return _old_gunicorn_dir(tmp_path_factory) if self.needs_old_gunicorn else []

    @property
    def shell_command(self) -> str:
        env = ' '.join('%s=%s' % item for item in {'SUITE_APP_MODE': self.mode}.items())
        return '%s %s' % (env, ' '.join(self.command))


def _row(id: str, command: str, mode: str, deflate: bool, **kwargs: Any) -> Row:
    env = {'SUITE_APP_MODE': mode, **kwargs.pop('env', {})}
    return Row(id, tuple(command.split()), mode, deflate, env=env, **kwargs)


GUNICORN = 'gunicorn -w 1 -b %s' % ADDRESS

ROWS = [
    # Server (WSGI)
    _row('werkzeug', 'python suite_app.py werkzeug', 'threading', False),
    _row('gunicorn-gthread', GUNICORN + ' --threads 100 suite_app:app', 'threading', False),
    _row(
        'gunicorn-gevent-websocket',
        GUNICORN + ' -k geventwebsocket.gunicorn.workers.GeventWebSocketWorker suite_app:app',
        'gevent',
        False,
    ),
    _row('gunicorn-gevent', GUNICORN + ' -k gevent suite_app:app', 'gevent', False),
    _row(
        'gunicorn-eventlet',
        GUNICORN + ' -k eventlet suite_app:app',
        'eventlet',
        False,
        needs_old_gunicorn=True,
    ),
    _row(
        'uwsgi-gevent',
        'uwsgi --http-socket %s --gevent 100 --http-websockets --master --processes 1 '
        '--die-on-term --gevent-monkey-patch --wsgi-file suite_app.py --callable app' % ADDRESS,
        'gevent_uwsgi',
        False,
    ),
    _row(
        'uwsgi-gevent-http-router',
        'uwsgi --http %s --gevent 100 --http-websockets --master --processes 1 --die-on-term '
        '--gevent-monkey-patch --wsgi-file suite_app.py --callable app' % ADDRESS,
        'gevent_uwsgi',
        False,
    ),
    _row('eventlet-wsgi', 'python suite_app.py eventlet', 'eventlet', False),
    _row('gevent-pywsgi', 'python suite_app.py gevent', 'gevent', False),
    # AsyncServer (ASGI)
    _row('uvicorn', 'uvicorn --host 127.0.0.1 --port 3000 suite_app:app', 'asgi', True),
    _row(
        'uvicorn-no-deflate',
        'uvicorn --host 127.0.0.1 --port 3000 --ws-per-message-deflate false suite_app:app',
        'asgi',
        False,
    ),
    _row(
        'gunicorn-uvicorn-worker',
        GUNICORN + ' -k uvicorn_worker.UvicornWorker suite_app:app',
        'asgi',
        True,
    ),
    _row('gunicorn-asgi', GUNICORN + ' -k asgi suite_app:app', 'asgi', False),
    _row('hypercorn', 'hypercorn -b %s suite_app:app' % ADDRESS, 'asgi', True),
    _row('daphne', 'daphne -b 127.0.0.1 -p 3000 suite_app:app', 'asgi', False),
    _row(
        'granian',
        'granian --interface asgi --host 127.0.0.1 --port 3000 suite_app:app',
        'asgi',
        False,
    ),
    _row('native', 'python -m engineio_fast serve suite_app:app --port 3000', 'asgi', False),
    # AsyncServer on a framework's own server
    _row('aiohttp', 'python suite_app.py aiohttp', 'aiohttp', False),
    _row('tornado', 'python suite_app.py tornado', 'tornado', False),
    _row('sanic', 'sanic suite_app:app --host 127.0.0.1 --port 3000', 'sanic', False),
]

#: Each row's name in the "Tested HTTP servers" table of docs/serving/index.md.
TABLE_NAMES = {
    'werkzeug': 'werkzeug (threaded)',
    'gunicorn-gthread': 'gunicorn, gthread worker',
    'gunicorn-gevent-websocket': 'gunicorn + gevent-websocket',
    'gunicorn-gevent': 'gunicorn, gevent worker',
    'gunicorn-eventlet': 'gunicorn < 26, eventlet worker',
    'uwsgi-gevent': 'uWSGI with gevent',
    'uwsgi-gevent-http-router': 'uWSGI with gevent, HTTP router',
    'eventlet-wsgi': 'eventlet.wsgi',
    'gevent-pywsgi': 'gevent pywsgi',
    'uvicorn': 'uvicorn',
    'uvicorn-no-deflate': 'uvicorn, permessage-deflate off',
    'gunicorn-uvicorn-worker': 'gunicorn + uvicorn-worker',
    'gunicorn-asgi': 'gunicorn 27, asgi worker',
    'hypercorn': 'hypercorn',
    'daphne': 'daphne',
    'granian': 'granian',
    'native': 'engineio_fast serve (native transport)',
    'aiohttp': 'aiohttp',
    'tornado': 'tornado',
    'sanic': 'sanic',
}
