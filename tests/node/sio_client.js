#!/usr/bin/env node
// Socket.IO client harness for tests/compat, built on the official JavaScript
// client (socket.io-client, version pinned in package.json).  The Python twin
// tests/compat/sio_client.py (python-socketio Client / AsyncClient) reads the
// same scenarios and prints the same lines, so a test runs one scenario on
// every client.
//
// Usage:  node sio_client.js '<scenario JSON>'
//
// Scenario: {"url": "http://127.0.0.1:5000", "transports": [...], "timeoutMs": 20000,
//            "steps": [...]}.  `transports` is ["polling"], ["websocket"] or
// ["polling", "websocket"] (the default: polling, then the upgrade).  Steps run
// in order; `client` names a connection (default "a"), `ns` a namespace on it
// (default "/"):
//
//   {"op": "connect", "client": "a", "namespaces": ["/", "/chat"], "auth": {...}}
//        connects, waits until every namespace reported connect or connect_error
//        (a "transports" key here overrides the scenario's for this connection)
//   {"op": "emit", "client": "a", "ns": "/", "event": "echo", "args": [...], "ack": true}
//        emits; with ack, waits for it
//   {"op": "wait", "client": "b", "ns": "/", "event": "room_msg", "count": 1}
//        waits until `count` such events were received (since the start)
//   {"op": "wait_disconnect", "client": "a", "ns": "/"}
//   {"op": "wait_upgrade", "client": "a"}      waits until the transport is websocket
//   {"op": "disconnect", "client": "a"}        disconnects every namespace, waits for
//                                              the disconnect events and the close
//   {"op": "transport", "client": "a"}         prints the current transport
//   {"op": "sleep", "ms": 200}
//
// Output, one JSON object per line (binary values anywhere in args are
// {"$bin": "<base64>"}, in both directions):
//
//   {"event":"connect","client":"a","ns":"/"}
//   {"event":"connect_error","client":"a","ns":"/","message":"bad token","data":{...}}
//   {"event":"recv","client":"a","ns":"/","name":"room_msg","args":[...]}
//   {"event":"ack","client":"a","ns":"/","name":"echo","args":[...]}
//   {"event":"disconnect","client":"a","ns":"/","reason":"io server disconnect"}
//   {"event":"transport","client":"a","name":"websocket"}
//   {"event":"done"}                 exit 0, after disconnecting every client left
//   {"event":"timeout","step":3}     exit 2, the hard deadline (timeoutMs) was hit
//   {"event":"fatal","message":"..."} exit 1
'use strict';

const { Manager } = require('socket.io-client');

const EXIT_DONE = 0;
const EXIT_FATAL = 1;
const EXIT_TIMEOUT = 2;

let finished = false;

function emit(obj) {
  if (!finished) process.stdout.write(JSON.stringify(obj) + '\n');
}

function finish(obj, code) {
  if (finished) return;
  finished = true;
  process.stdout.write(JSON.stringify(obj) + '\n', () => process.exit(code));
  setTimeout(() => process.exit(code), 1000).unref();
}

function encode(value) {
  if (Buffer.isBuffer(value)) return { $bin: value.toString('base64') };
  if (value instanceof ArrayBuffer) return { $bin: Buffer.from(value).toString('base64') };
  if (ArrayBuffer.isView(value)) {
    return { $bin: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  }
  if (Array.isArray(value)) return value.map(encode);
  if (value && typeof value === 'object') {
    const out = {};
    for (const [key, item] of Object.entries(value)) out[key] = encode(item);
    return out;
  }
  return value;
}

function decode(value) {
  if (Array.isArray(value)) return value.map(decode);
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === '$bin') return Buffer.from(value.$bin, 'base64');
    const out = {};
    for (const [key, item] of Object.entries(value)) out[key] = decode(item);
    return out;
  }
  return value;
}

// One connection: a Manager (one Engine.IO session) and a socket per namespace.
class Client {
  constructor(name, url, transports) {
    this.name = name;
    this.manager = new Manager(url, {
      transports,
      upgrade: transports.includes('websocket') && transports.includes('polling'),
      reconnection: false,
      autoConnect: false,
      rememberUpgrade: false,
    });
    this.sockets = {};
    this.received = {}; // "ns name" -> count
    this.disconnected = new Set();
  }

  socket(ns) {
    const socket = this.sockets[ns];
    if (!socket) throw new Error(`client ${this.name} has no namespace ${ns}`);
    return socket;
  }

  transportName() {
    return this.manager.engine && this.manager.engine.transport
      ? this.manager.engine.transport.name : null;
  }
}

// Waiters re-check their condition whenever any event arrives.
let waiters = [];

function changed() {
  const pending = waiters;
  waiters = [];
  for (const waiter of pending) {
    if (waiter.check()) waiter.resolve();
    else waiters.push(waiter);
  }
}

function until(check) {
  if (check()) return Promise.resolve();
  return new Promise((resolve) => waiters.push({ check, resolve }));
}

const clients = {};

function connect(url, transports, step) {
  const name = step.client ?? 'a';
  const client = clients[name] ?? (clients[name] = new Client(name, url, step.transports ?? transports));
  const settled = new Set();
  for (const ns of step.namespaces ?? ['/']) {
    const socket = client.manager.socket(ns, { auth: step.auth ?? {} });
    client.sockets[ns] = socket;
    client.disconnected.delete(ns);
    socket.on('connect', () => {
      emit({ event: 'connect', client: name, ns });
      settled.add(ns);
      changed();
    });
    socket.on('connect_error', (err) => {
      emit({
        event: 'connect_error', client: name, ns, message: err.message, data: encode(err.data ?? null),
      });
      settled.add(ns);
      changed();
    });
    socket.on('disconnect', (reason) => {
      emit({ event: 'disconnect', client: name, ns, reason });
      client.disconnected.add(ns);
      changed();
    });
    socket.onAny((event, ...args) => {
      emit({ event: 'recv', client: name, ns, name: event, args: encode(args) });
      const key = ns + ' ' + event;
      client.received[key] = (client.received[key] ?? 0) + 1;
      changed();
    });
    socket.connect();
  }
  const wanted = step.namespaces ?? ['/'];
  return until(() => wanted.every((ns) => settled.has(ns)));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The manager closes the engine as soon as its last socket is gone, before
// the requests carrying the namespace DISCONNECT and the Engine.IO close
// reached the server.  Wait (bounded) until the transport finished writing:
// a polling POST completed (`writable` again), a WebSocket fully closed.
// Polling may have two POSTs in flight (the DISCONNECT, then the close packet
// written without waiting for it): the first completion sets `writable`, so
// allow the other one a moment more.
async function settle(transport) {
  if (!transport) return;
  const deadline = Date.now() + 2000;
  const polling = transport.name !== 'websocket';
  const done = () => (polling
    ? transport.writable !== false
    : !transport.ws || transport.ws.readyState === 3);
  while (!done() && Date.now() < deadline) await sleep(10);
  if (polling) await sleep(100);
}

async function disconnect(client) {
  const transport = client.manager.engine && client.manager.engine.transport;
  const live = Object.entries(client.sockets).filter(([, socket]) => socket.connected);
  for (const [, socket] of live) socket.disconnect();
  await until(() => live.every(([ns]) => client.disconnected.has(ns)));
  await settle(transport);
}

async function runStep(scenario, step) {
  const client = () => {
    const found = clients[step.client ?? 'a'];
    if (!found) throw new Error('unknown client ' + step.client);
    return found;
  };
  const ns = step.ns ?? '/';
  switch (step.op) {
    case 'connect':
      return connect(scenario.url, scenario.transports ?? ['polling', 'websocket'], step);
    case 'emit': {
      const socket = client().socket(ns);
      const args = decode(step.args ?? []);
      if (!step.ack) {
        socket.emit(step.event, ...args);
        return undefined;
      }
      const reply = await new Promise((resolve) => socket.emit(step.event, ...args,
        (...response) => resolve(response)));
      emit({ event: 'ack', client: client().name, ns, name: step.event, args: encode(reply) });
      return undefined;
    }
    case 'wait': {
      const c = client();
      const key = ns + ' ' + step.event;
      return until(() => (c.received[key] ?? 0) >= (step.count ?? 1));
    }
    case 'wait_disconnect': {
      const c = client();
      return until(() => c.disconnected.has(ns));
    }
    case 'wait_upgrade': {
      const c = client();
      const engine = c.manager.engine;
      const onUpgrade = () => changed();
      engine.on('upgrade', onUpgrade);
      await until(() => c.transportName() === 'websocket');
      engine.off('upgrade', onUpgrade);
      return undefined;
    }
    case 'disconnect':
      return disconnect(client());
    case 'transport':
      emit({ event: 'transport', client: client().name, name: client().transportName() });
      return undefined;
    case 'sleep':
      return sleep(step.ms ?? 0);
    default:
      throw new Error('unknown op ' + JSON.stringify(step.op));
  }
}

async function main() {
  let scenario;
  try {
    scenario = JSON.parse(process.argv[2] || '');
  } catch (err) {
    finish({ event: 'fatal', message: 'scenario must be one JSON argument: ' + err.message }, EXIT_FATAL);
    return;
  }
  let current = -1;
  setTimeout(() => finish({ event: 'timeout', step: current }, EXIT_TIMEOUT),
    scenario.timeoutMs ?? 20000);
  const steps = scenario.steps ?? [];
  for (current = 0; current < steps.length; current++) {
    await runStep(scenario, steps[current]);
  }
  current = 'cleanup';
  for (const client of Object.values(clients)) await disconnect(client);
  finish({ event: 'done' }, EXIT_DONE);
}

process.on('uncaughtException', (err) => {
  finish({ event: 'fatal', message: String(err && err.stack || err) }, EXIT_FATAL);
});
process.on('unhandledRejection', (err) => {
  finish({ event: 'fatal', message: String(err && err.stack || err) }, EXIT_FATAL);
});

main();
