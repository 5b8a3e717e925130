#!/usr/bin/env node
// Many Engine.IO clients in one process, counting every message, for the
// fault and load tests (tests/load) and the soak run (bench/soak).
//
// Usage:  node eio_load.js '<config JSON>'
//
// Each client is an official engine.io-client Socket.  Client c uses
// config.transports[c % length] (e.g. [["polling"], ["websocket"],
// ["polling", "websocket"]] mixes polling, websocket and upgrading clients).
// From "open" on, without waiting for an upgrade, a client sends numbered
// messages "m<i>" (padded with "x" to `size` characters), at most `window` of
// them unanswered, one every `intervalMs`, until it sent `messages`; the echo
// server answers each with the same text.  With `push` ({count, intervalMs,
// size}) the client first asks the server to push it `count` numbered
// messages "p<i>" ("push ..." command of tests/helpers/echo_server.py).  Both streams
// are checked as they arrive: each must be 0, 1, 2, ... with nothing missing,
// repeated or out of order.  `upgradeAfter` holds the client's upgrade probe
// back until that many echoes (and pushes) arrived, so traffic is already
// flowing both ways on polling when the upgrade starts: it replaces the
// instance's _probe, the method engine.io-client 6.6 calls from onOpen for
// each offered upgrade.  A client that got every echo and every push
// closes itself.  Clients open evenly spread over `rampMs` (default 0: all
// at once).  `clientHeartbeat: false` turns off each client's own ping
// watchdog (as in eio_client.js), so only the server's heartbeat ends a
// session: a client process starved of CPU on a loaded machine then does not
// close itself for a ping it has not read yet.
//
// Printed lines (JSON): {"event":"opened"} once every client is open,
// {"event":"echoing"} once every client got its first echo, then one
// {"event":"summary", ...} when every client has closed (or at `timeoutMs`,
// with "timedOut": true), and the process exits 0.  The summary counts:
//   clients, opened, upgraded, completed (got everything, then closed)
//   sent, echoed, pushed        messages sent / echoes and pushes received
//   outOfOrder                  echoes or pushes not the next expected number
//   upgradedMidTraffic          clients whose upgrade happened while their
//                               echo stream (and push stream, if any) was
//                               started but not finished
//   closes                      {reason: count} of clients closed before
//                               completing (e.g. the server closed them)
//   errors                      the first few "error" events and anomalies
'use strict';

const { Socket } = require('engine.io-client');

const config = JSON.parse(process.argv[2]);
const transportsList = config.transports || [['polling', 'websocket']];
const messages = config.messages ?? 10;
const windowSize = config.window ?? 1;
const intervalMs = config.intervalMs ?? 0;
const size = config.size ?? 0;
const push = config.push || null;
const timeoutMs = config.timeoutMs ?? 60000;
const MAX_ERRORS = 20;

const totals = {
  event: 'summary',
  clients: config.clients,
  opened: 0,
  upgraded: 0,
  completed: 0,
  sent: 0,
  echoed: 0,
  pushed: 0,
  outOfOrder: 0,
  upgradedMidTraffic: 0,
  closes: {},
  errors: [],
  timedOut: false,
};
let finishedClients = 0;
let echoingClients = 0;
let summaryPrinted = false;

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function note(text) {
  if (totals.errors.length < MAX_ERRORS) totals.errors.push(text);
}

// Exit a little after the summary, so the close packets of the last clients
// leave before the process ends.
function printSummary() {
  if (summaryPrinted) return;
  summaryPrinted = true;
  process.stdout.write(JSON.stringify(totals) + '\n', () => setTimeout(() => process.exit(0), 300));
}

function numbered(prefix, i, pad, fill) {
  const base = prefix + i;
  return pad > base.length ? base + fill.repeat(pad - base.length) : base;
}

function runClient(index) {
  const socket = new Socket(config.url, {
    transports: transportsList[index % transportsList.length],
    path: config.path || '/engine.io',
  });
  let sent = 0;
  let nextEcho = 0;
  let nextPush = 0;
  let finished = false;
  let timer = null;
  let heldProbe = null;
  if (config.clientHeartbeat === false) {
    socket._resetPingTimeout = function () {
      this.clearTimeoutFn(this._pingTimeoutTimer);
      this._pingTimeoutTime = Infinity;
    };
  }
  if (config.upgradeAfter) {
    const probe = socket._probe;
    socket._probe = function (name) {
      heldProbe = () => probe.call(this, name);
    };
  }
  function releaseProbe() {
    const enough = (n) => n >= config.upgradeAfter;
    if (heldProbe && enough(nextEcho) && (!push || enough(nextPush))) {
      const probe = heldProbe;
      heldProbe = null;
      probe();
    }
  }

  const complete = () =>
    nextEcho >= messages && (!push || nextPush >= push.count);

  function finish(reason) {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    if (reason === null) totals.completed++;
    else totals.closes[reason] = (totals.closes[reason] || 0) + 1;
    finishedClients++;
    if (finishedClients === config.clients) printSummary();
  }

  function pump() {
    timer = null;
    while (!finished && sent < messages && sent - nextEcho < windowSize) {
      socket.send(numbered('m', sent, size, 'x'));
      sent++;
      totals.sent++;
      if (intervalMs > 0) break;
    }
    if (!finished && sent < messages && sent - nextEcho < windowSize && intervalMs > 0) {
      timer = setTimeout(pump, intervalMs);
    }
  }

  socket.on('open', () => {
    totals.opened++;
    if (totals.opened === config.clients) emit({ event: 'opened' });
    if (push) socket.send(`push ${push.count} ${push.intervalMs} ${push.size || 0}`);
    pump();
  });
  socket.on('upgrade', () => {
    totals.upgraded++;
    const echoMid = nextEcho > 0 && nextEcho < messages;
    const pushMid = !push || (nextPush > 0 && nextPush < push.count);
    if (echoMid && pushMid) totals.upgradedMidTraffic++;
    else if (config.upgradeAfter) note(`client ${index}: upgraded after ${nextEcho} echoes, ${nextPush} pushes`);
  });
  socket.on('message', (data) => {
    if (typeof data !== 'string') return;
    const match = /^([mp])(\d+)/.exec(data);
    if (!match) return; // e.g. a stats answer
    const i = Number(match[2]);
    if (match[1] === 'm') {
      if (i !== nextEcho) {
        totals.outOfOrder++;
        note(`client ${index}: echo ${i}, expected ${nextEcho}`);
      }
      nextEcho = i + 1;
      totals.echoed++;
      if (nextEcho === 1 && ++echoingClients === config.clients) emit({ event: 'echoing' });
      if (!timer) pump();
    } else {
      if (i !== nextPush) {
        totals.outOfOrder++;
        note(`client ${index}: push ${i}, expected ${nextPush}`);
      }
      nextPush = i + 1;
      totals.pushed++;
    }
    releaseProbe();
    if (complete() && !finished) {
      finish(null);
      socket.close();
    }
  });
  socket.on('error', (err) => {
    const detail = err && err.description ? err.description.message || err.description : '';
    note(`client ${index}: error ${err && err.message} ${detail}`);
  });
  socket.on('close', (reason) => {
    if (!finished) {
      note(`client ${index}: ${reason} on ${socket.transport && socket.transport.name} after ${nextEcho} echoes`);
    }
    finish(reason);
  });
}

setTimeout(() => {
  totals.timedOut = true;
  printSummary();
}, timeoutMs);

const rampMs = config.rampMs ?? 0;
for (let i = 0; i < config.clients; i++) {
  if (rampMs > 0) setTimeout(() => runClient(i), (i * rampMs) / config.clients);
  else runClient(i);
}
