"""Three workers behind nginx with Redis between them: the scale-out recipe, for real (issue 10).

The deployment is the example's own (examples/scaleout/deploy.py, docs/scaling.md):
redis-server, workers ``w1`` and ``w2`` (python-socketio ``AsyncServer``, on
uvicorn and on engineio_fast's native transport) and ``w3`` (``Server`` in
threading mode on gunicorn gthread), all
on engineio_fast with ``worker_id``, and nginx routing handshakes round robin
and every later request on the worker prefix of its ``sid``.  Thirty clients
(15 socket.io-client, 15 python-socketio ``Client``; half polling-only, half
upgrading to websocket) connect through nginx and stay connected for the
whole module; the last test kills a worker.  Everything listens on 127.0.0.1;
every wait is bounded.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
NODE_DIR = REPO / 'tests' / 'node'
sys.path.insert(0, str(REPO / 'examples' / 'scaleout'))

import deploy  # noqa: E402  (examples/scaleout/deploy.py)
import redis  # noqa: E402
from raw_clients import http_request  # noqa: E402

SERVERS = ['uvicorn', 'native', 'gunicorn']
PER_KIND = 15
#: Bound of every wait on the deployment.
TIMEOUT = 20.0
#: After the last expected delivery, how long a duplicate gets to show up.
DUPLICATE_GRACE = 0.7


class Swarm:
    """tests/node/sio_swarm.js or tests/scaleout/sio_swarm.py in a child, steered on stdin."""

    def __init__(self, kind: str, url: str):
        config = json.dumps({'url': url, 'timeoutMs': 300_000})
        if kind == 'node':
            if shutil.which('node') is None:
                pytest.fail('node is not installed (Node.js 18+ is needed)', pytrace=False)
            command = ['node', str(NODE_DIR / 'sio_swarm.js'), config]
        else:
            command = [sys.executable, str(HERE / 'sio_swarm.py'), config]
        self.process = subprocess.Popen(
            command,
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.events: list[dict] = []
        self.stderr: list[str] = []
        self._changed = threading.Condition()
        self._ids = iter(range(1, 1 << 30))
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(
            target=self.stderr.extend, args=(self.process.stderr,), daemon=True
        ).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            if line.startswith('{'):
                with self._changed:
                    self.events.append(json.loads(line))
                    self._changed.notify_all()

    def send(self, **command: Any) -> None:
        self.process.stdin.write(json.dumps(command) + '\n')
        self.process.stdin.flush()

    def wait(self, done: Callable[[list[dict]], Any], what: str, timeout: float = TIMEOUT) -> Any:
        """Wait until ``done(events)`` is truthy; return it.  AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (result := done(self.events)):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.process.poll() is not None:
                    raise AssertionError(
                        'swarm: no %s within %.0fs; events %r\nstderr: %s'
                        % (what, timeout, self.events[-20:], ''.join(self.stderr)[-2000:])
                    )
                self._changed.wait(min(remaining, 0.5))
        return result

    def call(self, client: str, event: str, *args: Any) -> int:
        """Emit with an acknowledgement; returns the id its ``ack`` line will carry."""
        ack_id = next(self._ids)
        self.send(op='emit', client=client, event=event, args=list(args), id=ack_id)
        return ack_id

    def ack(self, ack_id: int) -> list:
        def found(events):
            return next((e for e in events if e.get('id') == ack_id), None)

        line = self.wait(found, 'ack #%d' % ack_id)
        assert line['event'] == 'ack', line
        return line['args']

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.send(op='quit')
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(timeout=10)


class Clients:
    """The 30 connections, over both swarms: ``n1..n15`` (node), ``p1..p15`` (python)."""

    def __init__(self, url: str):
        self.swarms = {'n': Swarm('node', url), 'p': Swarm('python', url)}
        self.names = ['%s%d' % (kind, i) for kind in self.swarms for i in range(1, PER_KIND + 1)]

    def swarm(self, name: str) -> Swarm:
        return self.swarms[name[0]]

    @staticmethod
    def polling_only(name: str) -> bool:
        """Odd numbers poll only, even numbers upgrade to websocket."""
        return int(name[1:]) % 2 == 1

    def transports(self, name: str) -> list[str]:
        return ['polling'] if self.polling_only(name) else ['polling', 'websocket']

    def call_all(self, names: list[str], event: str, *args: Any) -> dict[str, list]:
        """Emit ``event`` from each of ``names`` at once; their acknowledgements by name."""
        ids = {name: self.swarm(name).call(name, event, *args) for name in names}
        return {name: self.swarm(name).ack(ids[name]) for name in names}

    def mark(self) -> dict[str, int]:
        """Where each swarm's event list ends now (to look only at what comes later)."""
        return {kind: len(swarm.events) for kind, swarm in self.swarms.items()}

    def since(self, mark: dict[str, int] | None, **match: Any) -> list[dict]:
        """The events after ``mark`` (all if None) whose fields equal ``match``."""
        return [
            event
            for kind, swarm in self.swarms.items()
            for event in list(swarm.events)[mark[kind] if mark else 0 :]
            if all(event.get(key) == value for key, value in match.items())
        ]

    def wait_all(self, names, what: str, mark: dict | None = None, **match: Any) -> None:
        """Wait until each client in ``names`` printed an event matching ``match`` after ``mark``."""
        for kind, swarm in self.swarms.items():
            wanted = {name for name in names if name[0] == kind}
            start = mark[kind] if mark else 0

            def done(events, wanted=wanted, start=start):
                later = events[start:]
                seen = {
                    e.get('client') for e in later if all(e.get(k) == v for k, v in match.items())
                }
                return wanted <= seen

            swarm.wait(done, what)

    def stop(self) -> None:
        for swarm in self.swarms.values():
            swarm.stop()


def tag() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope='module')
def deployment():
    for program in ('nginx', 'redis-server'):
        if shutil.which(program) is None:
            pytest.fail('%s is not installed (tests/run.sh installs it)' % program, pytrace=False)
    started = deploy.Deployment(SERVERS).start()
    yield started
    started.stop()
    shutil.rmtree(started.root, ignore_errors=True)


@pytest.fixture(scope='module')
def clients(deployment):
    swarm = Clients(deployment.url)
    try:
        for name in swarm.names:
            swarm.swarm(name).send(op='connect', client=name, transports=swarm.transports(name))
        swarm.wait_all(swarm.names, 'connect of every client', event='connect')
        yield swarm
    finally:
        swarm.stop()


@pytest.fixture(scope='module')
def placement(clients) -> dict[str, dict]:
    """``whoami`` of every client once the upgrading ones run on websocket."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        where = clients.call_all(clients.names, 'whoami')
        where = {name: args[0] for name, args in where.items()}
        pending = [
            name
            for name in clients.names
            if where[name]['transport']
            != ('polling' if clients.polling_only(name) else 'websocket')
        ]
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert not pending, {name: where[name] for name in pending}
    return where


def on_worker(placement: dict, worker: str) -> list[str]:
    return sorted(name for name, where in placement.items() if where['worker'] == worker)


def test_every_session_stays_on_its_worker(deployment, clients, placement):
    """Round robin spreads the handshakes; every later request reaches the sid's worker."""
    by_worker = Counter(where['worker'] for where in placement.values())
    assert set(by_worker) == set(deployment.workers) and min(by_worker.values()) >= 5, by_worker
    for name, where in placement.items():
        [connected] = clients.since(None, event='connect', client=name)
        # the Engine.IO sid the client holds is the one the worker serves, with its prefix
        assert where['eio_sid'] == connected['sid'], (name, where, connected)
        assert where['eio_sid'].startswith(where['worker'] + '.'), where
    # more traffic on every session (POSTs and polls), then nginx's account of it all
    echoes = clients.call_all(clients.names, 'echo', 'ping', 1)
    assert all(args == ['ping', 1] for args in echoes.values()), echoes
    sids = {where['eio_sid'] for where in placement.values()}
    routed = assert_routed_to_owner(deployment, sids, {'200', '101'})
    # (a websocket is logged when it ends; python's Client upgrades before its first poll)
    polling = {where['eio_sid'] for name, where in placement.items() if clients.polling_only(name)}
    assert polling <= {entry['sid'] for entry in routed}
    for worker, child in deployment.workers.items():
        assert 'Invalid session' not in child.log_text(), (worker, child.log_text())


def assert_routed_to_owner(deployment, sids: set, statuses: set) -> list[dict]:
    """nginx sent each request of ``sids`` to the worker its prefix names; those requests."""
    ports = {'127.0.0.1:%d' % child.port: worker for worker, child in deployment.workers.items()}
    routed = [entry for entry in deployment.access_log() if entry['sid'] in sids]
    for entry in routed:
        # every try of a request (nginx retries a dead worker's keep-alive connections),
        # or the group itself when none of its servers was tried
        tried = {
            ports.get(addr, addr.removeprefix('eio_')) for addr in entry['upstream'].split(', ')
        }
        assert tried == {entry['sid'].split('.')[0]}, entry
        assert entry['status'] in statuses, entry
    return routed


def wait_for_subscribers(deployment, count: int) -> None:
    """Wait until ``count`` workers listen on python-socketio's Redis channel."""
    client = redis.Redis.from_url(deployment.redis_url)
    try:
        deadline = time.monotonic() + TIMEOUT
        while client.pubsub_numsub('socketio')[0][1] != count:
            assert time.monotonic() < deadline, client.pubsub_numsub('socketio')
            time.sleep(0.1)
    finally:
        client.close()


def assert_delivered_once(clients, mark, name: str, payloads: set, receivers: list[str]) -> None:
    """Each of ``payloads`` reaches each of ``receivers`` once, and nobody else."""

    def delivered() -> Counter:
        return Counter(
            (event['client'], event['args'][0]['payload'])
            for event in clients.since(mark, event='recv', name=name)
            if event['args'][0]['payload'] in payloads
        )

    expected = Counter({(client, payload): 1 for client in receivers for payload in payloads})
    for kind, swarm in clients.swarms.items():
        wanted = {key for key in expected if key[0][0] == kind}
        swarm.wait(lambda events, wanted=wanted: wanted <= set(delivered()), name + ' deliveries')
    time.sleep(DUPLICATE_GRACE)
    assert delivered() == expected


def test_broadcast_and_room_emit_from_every_worker_reach_each_client_once(
    deployment, clients, placement
):
    """Emits from a client of each worker go through Redis to all workers' clients, once."""
    wait_for_subscribers(deployment, len(deployment.workers))
    senders = [on_worker(placement, worker)[0] for worker in deployment.workers]
    mark = clients.mark()
    payloads = {name: 'bcast-%s-%s' % (name, tag()) for name in senders}
    acks = {name: clients.swarm(name).call(name, 'broadcast', payloads[name]) for name in senders}
    assert all(clients.swarm(name).ack(acks[name]) == ['sent'] for name in senders)
    assert_delivered_once(clients, mark, 'bcast', set(payloads.values()), clients.names)

    room = 'room-' + tag()
    # every other client of each worker; the senders (first of each) stay outside
    members = [name for worker in deployment.workers for name in on_worker(placement, worker)[1::2]]
    assert all(args == ['joined'] for args in clients.call_all(members, 'join', room).values())
    mark = clients.mark()
    payloads = {name: 'room-%s-%s' % (name, tag()) for name in senders}
    acks = {
        name: clients.swarm(name).call(name, 'to_room', room, payloads[name]) for name in senders
    }
    assert all(clients.swarm(name).ack(acks[name]) == ['sent'] for name in senders)
    assert_delivered_once(clients, mark, 'room_msg', set(payloads.values()), members)


def test_misrouted_sid_is_a_400_with_a_log_line(deployment, clients, placement):
    """A live session of w1 asked at w2, and an unknown worker's sid through nginx: 400 at once."""
    victim = on_worker(placement, 'w1')[0]
    sid = placement[victim]['eio_sid']
    w2 = deployment.workers['w2']
    response = http_request(w2.port, 'GET', socketio_path(sid), timeout=5)
    assert response.status == 400 and response.json() == 'Invalid session %s' % sid
    line = 'Invalid session %s: it was issued by worker w1, this is worker w2' % sid
    wait_until(lambda: line in w2.log_text(), 'the misroute log line of w2')

    forged = 'w9.' + 'A' * 20
    response = http_request(deployment.port, 'GET', socketio_path(forged), timeout=5)
    assert response.status == 400 and response.json() == 'Invalid session %s' % forged
    wait_until(
        lambda: any(
            'issued by worker w9' in child.log_text() for child in deployment.workers.values()
        ),
        'the misroute log line for w9',
    )
    # the session asked about at the wrong worker is unharmed
    assert clients.call_all([victim], 'echo', 'still')[victim] == ['still']


def socketio_path(sid: str) -> str:
    return deploy.PATH + '?EIO=4&transport=polling&sid=' + sid


def wait_until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not check():
        assert time.monotonic() < deadline, 'no %s within %.0fs' % (what, TIMEOUT)
        time.sleep(0.05)


def test_killing_a_worker_disconnects_only_its_clients_which_reconnect_elsewhere(
    deployment, clients, placement
):
    """SIGKILL w1: its clients lose their session and reconnect to w2/w3; the rest never notice."""
    victims = on_worker(placement, 'w1')
    mark = clients.mark()
    deployment.workers['w1'].kill(signal.SIGKILL)

    clients.wait_all(victims, 'disconnect of the victims', mark, event='disconnect')
    clients.wait_all(victims, 'reconnection of the victims', mark, event='connect')
    for event in clients.since(mark, event='connect'):
        assert event['client'] in victims and event['sid'].split('.')[0] in ('w2', 'w3'), event
    moved = clients.call_all(victims, 'whoami')
    assert {args[0]['worker'] for args in moved.values()} <= {'w2', 'w3'}, moved

    # everyone, moved or not, still gets a broadcast exactly once
    wait_for_subscribers(deployment, 2)
    sender = on_worker(placement, 'w3')[0]
    payload = 'after-' + tag()
    assert clients.call_all([sender], 'broadcast', payload)[sender] == ['sent']
    assert_delivered_once(clients, mark, 'bcast', {payload}, clients.names)
    # the victims' websockets, ended by w1's death, are in nginx's log now: they went to w1
    sids = {where['eio_sid'] for where in placement.values()}
    sids |= {event['sid'] for event in clients.since(mark, event='connect')}
    routed = assert_routed_to_owner(deployment, sids, {'200', '101', '502'})
    upgraded = {placement[name]['eio_sid'] for name in victims if not clients.polling_only(name)}
    assert upgraded <= {entry['sid'] for entry in routed if entry['status'] == '101'}
    # nginx answered 502 only for w1's sessions (their polls when it died)
    assert all(entry['sid'].startswith('w1.') for entry in routed if entry['status'] == '502')
    lost = {e['client'] for e in clients.since(mark, event='disconnect')}
    assert lost == set(victims), 'clients of w2/w3 disconnected: %s' % sorted(lost - set(victims))
