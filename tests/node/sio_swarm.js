#!/usr/bin/env node
// Many socket.io-client connections in one process, driven line by line on
// stdin, for tests/scaleout (a deployment of several workers behind nginx).
// The Python twin is tests/scaleout/sio_swarm.py (python-socketio Client):
// same commands, same output lines.  Unlike sio_client.js (a fixed scenario,
// no reconnection) the test steers it while it runs, e.g. kills a worker in
// the middle, and connections reconnect on their own.
//
// Usage:  node sio_swarm.js '{"url": "http://127.0.0.1:8000", "timeoutMs": 60000}'
//
// Commands (one JSON object per stdin line):
//   {"op": "connect", "client": "n1", "transports": ["polling"]}
//        opens connection n1 (auth {"name": "n1"}), reconnecting after losses
//   {"op": "emit", "client": "n1", "event": "whoami", "args": [], "id": 7}
//        emits with an acknowledgement, printed as {"event":"ack","id":7,...}
//   {"op": "quit"}   disconnects everything, prints {"event":"done"}, exits 0
//
// Output lines:
//   {"event":"connect","client":"n1","sid":"<engine.io sid>"}   (again on each reconnection)
//   {"event":"disconnect","client":"n1","reason":"transport close"}
//   {"event":"recv","client":"n1","name":"bcast","args":[...]}
//   {"event":"ack","client":"n1","id":7,"args":[...]}  or  {"event":"ack_error","id":7,...}
//   {"event":"timeout"} (exit 2, timeoutMs passed)   {"event":"fatal","message":"..."} (exit 1)
'use strict';

const readline = require('readline');
const { Manager } = require('socket.io-client');

const config = JSON.parse(process.argv[2] || '{}');
const ACK_TIMEOUT_MS = 10000;
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

setTimeout(() => finish({ event: 'timeout' }, 2), config.timeoutMs ?? 60000).unref();

const sockets = {};

function connect(name, transports) {
  const manager = new Manager(config.url, {
    transports,
    upgrade: transports.includes('websocket') && transports.includes('polling'),
    rememberUpgrade: false,
    reconnectionDelay: 200,
    reconnectionDelayMax: 1000,
  });
  const socket = manager.socket('/', { auth: { name } });
  socket.on('connect', () => emit({ event: 'connect', client: name, sid: manager.engine.id }));
  socket.on('disconnect', (reason) => emit({ event: 'disconnect', client: name, reason }));
  socket.onAny((event, ...args) => emit({ event: 'recv', client: name, name: event, args }));
  sockets[name] = socket;
}

function run(command) {
  switch (command.op) {
    case 'connect':
      return connect(command.client, command.transports ?? ['polling', 'websocket']);
    case 'emit': {
      const { client, id } = command;
      sockets[client].timeout(ACK_TIMEOUT_MS).emit(command.event, ...(command.args ?? []), (err, ...args) => {
        if (err) emit({ event: 'ack_error', client, id, message: String(err.message || err) });
        else emit({ event: 'ack', client, id, args });
      });
      return undefined;
    }
    case 'quit':
      for (const socket of Object.values(sockets)) socket.disconnect();
      // the DISCONNECT packets leave on the next tick; give them a moment
      setTimeout(() => finish({ event: 'done' }, 0), 200);
      return undefined;
    default:
      throw new Error('unknown op ' + JSON.stringify(command.op));
  }
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim()) run(JSON.parse(line));
});
process.stdin.on('end', () => finish({ event: 'done' }, 0));
process.on('uncaughtException', (err) => finish({ event: 'fatal', message: String(err.stack || err) }, 1));
