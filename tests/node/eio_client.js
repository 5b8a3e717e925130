#!/usr/bin/env node
// Engine.IO v4 client harness for tests/interop, built on the official
// JavaScript client (engine.io-client, version pinned in package.json).
//
// Usage:  node eio_client.js '<scenario JSON>'
//
// The scenario is one JSON object (argv[2]).  Every event is printed as one
// JSON object per line on stdout, and the script always exits by itself:
//
//   {"event":"open","sid":"...","transport":"polling"}
//   {"event":"message","data":"hello","binary":false}
//   {"event":"message","data":"AQID","binary":true}       (data = base64)
//   {"event":"upgrade","transport":"websocket"}
//   {"event":"upgradeError","message":"..."}
//   {"event":"ping","pong":true}                           (only with reportPings or stopPong)
//   {"event":"error","message":"...","description":...}
//   {"event":"close","reason":"transport close","description":...}
//   {"event":"timeout"}                                    (hard deadline hit)
//   {"event":"fatal","message":"..."}                      (bad scenario / crash)
//
// Exit codes: 0 after "close", 2 after "timeout", 1 after "fatal".  That
// final event is always the last line.
//
// Scenario keys (all optional except url):
//   url              server base URL, e.g. "http://127.0.0.1:5000"
//   path             Engine.IO path (default "/engine.io")
//   query            extra query parameters (object)
//   transports       e.g. ["polling"], ["websocket"], ["polling","websocket"]
//                    (default ["polling","websocket"])
//   upgrade          allow the polling -> websocket upgrade (default true)
//   send             messages sent after open; a string is a text message,
//                    {"b64": "..."} a binary message
//   count, size      then send `count` generated text messages: message i is
//                    "m<i>" right-padded with "x" to `size` characters (no
//                    padding when size is 0 or shorter than "m<i>"), so the
//                    receiver can recover i with /^m(\d+)/
//   chunk            enqueue the generated messages `chunk` at a time, waiting
//                    for the socket's "drain" between chunks (default: all at
//                    once; the client then batches them into few POSTs)
//   sendAfterUpgrade wait for the "upgrade" event before sending anything; if
//                    the server offers no upgrade this ends in "timeout"
//   expect           number of messages to receive before finishing (default 0)
//   closeAfter       once `expect` messages arrived (and everything was sent),
//                    the client closes the connection (default true); with
//                    false the client waits for the server to close
//   lingerMs         wait this long after `expect` is reached before closing,
//                    so unexpected extra messages show up (default 0)
//   stopPong         never answer the server's pings (see "Heartbeat" below)
//   stopPongAfter    answer this many pings, then stop (implies stopPong)
//   reportPings      print a "ping" event for every ping received
//   clientHeartbeat  false disables the client's own ping-timeout watchdog
//                    (default true; see "Heartbeat" below)
//   timeoutMs        hard deadline for the whole run (default 10000)
//   exitDelayMs      stay alive this long after the final event, so a close
//                    packet still in flight reaches the server (default 0)
//
// Heartbeat.  In Engine.IO v4 the server sends "2" (ping) and the client
// answers "3" (pong).  engine.io-client 6.6 handles pings in
// Socket.prototype._onPacket, which calls `this._sendPacket("pong")`.  The
// method is looked up on the instance at call time (the transport's "packet"
// listener is a bound _onPacket, but _sendPacket is not bound), so stopPong
// installs an instance-level _sendPacket that drops packets of type "pong"
// and forwards everything else unchanged.  Pings are still seen by the client
// (and reset its watchdog), only the reply is suppressed; no other packet
// type goes through _sendPacket with type "pong", and the upgrade probe
// ("2probe") is written directly to the probe transport, so upgrades are
// unaffected.
//
// The client also runs its own watchdog: it closes with reason "ping timeout"
// if no ping arrives within pingInterval + pingTimeout of the last one (as
// advertised in the OPEN packet).  clientHeartbeat:false replaces
// Socket.prototype._resetPingTimeout on the instance with a version that only
// clears the timer, so any close is the server's doing (needed for servers
// that advertise a pingInterval shorter than they really use, e.g.
// python-engineio advertises 0 for ping_interval=0.3).  The replacement also
// keeps _pingTimeoutTime at Infinity so _hasPingExpired() (used by
// socket.io-client) never fires.
//
// What a close looks like (engine.io-client 6.6, observed on loopback):
//   client close()                 reason "forced close", description null
//   server close, polling          reason "transport close", description
//                                  {"description":"transport closed by the server"}
//                                  (the client received the "1" packet)
//   server close, websocket        reason "transport close", description
//                                  {"description":"websocket connection closed",
//                                   "context":{"code":1000,"reason":""}}
//   HTTP error (e.g. 400), polling "error" {"message":"xhr poll error",
//                                  "description":400} then reason "transport error"
//   unparsable 200 body, polling   "error" {"message":"server error",
//                                  "code":"parser error"} then "transport error"
//   client watchdog                reason "ping timeout"
'use strict';

const { Socket } = require('engine.io-client');

const EXIT_CLOSED = 0;
const EXIT_FATAL = 1;
const EXIT_TIMEOUT = 2;

let finished = false;

// Nothing is printed after the final line ("close", "timeout" or "fatal"):
// e.g. a pending upgrade probe reports "upgradeError" from inside the close.
function emit(obj) {
  if (finished) return;
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// Print the last line and exit once stdout is flushed (stdout on a pipe is
// synchronous on Linux, but the callback keeps this correct elsewhere too).
// Milliseconds to stay alive after the final event, so requests the client
// started while closing (the polling "1" POST) reach the server.
let exitDelayMs = 0;

function finish(obj, code) {
  if (finished) return;
  finished = true;
  const exit = () => setTimeout(() => process.exit(code), exitDelayMs);
  process.stdout.write(JSON.stringify(obj) + '\n', exit);
  // Fallback in case the write callback never comes.
  setTimeout(() => process.exit(code), 1000 + exitDelayMs).unref();
}

// Turns error / close descriptions into plain JSON.  engine.io-client passes
// TransportError (message + description + context), HTTP status numbers,
// ws close events ({code, reason}) or nothing at all.
function describe(value, depth = 0) {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return value;
  }
  if (depth > 3) return String(value);
  if (typeof value === 'object') {
    const out = {};
    for (const key of ['message', 'type', 'description', 'code', 'reason', 'transport']) {
      if (value[key] !== undefined && typeof value[key] !== 'function') {
        out[key] = describe(value[key], depth + 1);
      }
    }
    // The websocket transport closes with {description, context: CloseEvent}.
    const ctx = value.context;
    if (ctx && typeof ctx === 'object' && ctx.code !== undefined) {
      out.context = { code: ctx.code, reason: describe(ctx.reason, depth + 1) };
    }
    return out;
  }
  return String(value);
}

function toBuffer(data) {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

function decodeOutgoing(item) {
  if (typeof item === 'string') return item;
  if (item && typeof item === 'object' && typeof item.b64 === 'string') {
    return Buffer.from(item.b64, 'base64');
  }
  throw new Error('send items must be strings or {"b64": "..."}: ' + JSON.stringify(item));
}

function generated(i, size) {
  const base = 'm' + i;
  return size > base.length ? base + 'x'.repeat(size - base.length) : base;
}

function main() {
  let scenario;
  try {
    scenario = JSON.parse(process.argv[2] || '');
  } catch (err) {
    finish({ event: 'fatal', message: 'scenario must be one JSON argument: ' + err.message }, EXIT_FATAL);
    return;
  }
  if (!scenario || typeof scenario.url !== 'string') {
    finish({ event: 'fatal', message: 'scenario.url is required' }, EXIT_FATAL);
    return;
  }

  const timeoutMs = scenario.timeoutMs ?? 10000;
  const expect = scenario.expect ?? 0;
  exitDelayMs = scenario.exitDelayMs ?? 0;
  const closeAfter = scenario.closeAfter ?? true;
  const lingerMs = scenario.lingerMs ?? 0;
  const count = scenario.count ?? 0;
  const size = scenario.size ?? 0;
  const chunk = scenario.chunk && scenario.chunk > 0 ? scenario.chunk : Infinity;
  const stopPongAfter = scenario.stopPongAfter ?? (scenario.stopPong ? 0 : Infinity);
  const reportPings = Boolean(scenario.reportPings || scenario.stopPong ||
                              scenario.stopPongAfter !== undefined);

  let outgoing;
  try {
    outgoing = (scenario.send || []).map(decodeOutgoing);
  } catch (err) {
    finish({ event: 'fatal', message: err.message }, EXIT_FATAL);
    return;
  }

  // Hard deadline: every wait below is bounded by this timer.
  setTimeout(() => finish({ event: 'timeout' }, EXIT_TIMEOUT), timeoutMs);

  const socket = new Socket(scenario.url, {
    path: scenario.path ?? '/engine.io',
    query: scenario.query || {},
    transports: scenario.transports || ['polling', 'websocket'],
    upgrade: scenario.upgrade ?? true,
    // No reconnection logic exists in engine.io-client; keep the defaults
    // otherwise, but never remember an upgrade across runs (one run = one
    // process anyway) and never fall back to another transport silently.
    rememberUpgrade: false,
    tryAllTransports: false,
  });

  // -- heartbeat overrides (see the header comment) -------------------------
  let pongsSent = 0;
  const originalSendPacket = socket._sendPacket;
  socket._sendPacket = function (type, ...rest) {
    if (type === 'pong') {
      if (pongsSent >= stopPongAfter) {
        if (reportPings) emit({ event: 'ping', pong: false });
        return undefined;
      }
      pongsSent += 1;
      if (reportPings) emit({ event: 'ping', pong: true });
    }
    return originalSendPacket.call(this, type, ...rest);
  };
  if (scenario.clientHeartbeat === false) {
    socket._resetPingTimeout = function () {
      this.clearTimeoutFn(this._pingTimeoutTimer);
      this._pingTimeoutTime = Infinity;
    };
  }

  // -- sending ---------------------------------------------------------------
  let allSent = false;
  let received = 0;
  let expectMet = expect <= 0;
  let closing = false;

  function maybeClose() {
    if (!closeAfter || closing || !allSent || !expectMet) return;
    closing = true;
    // close() waits for the write buffer to drain before closing.
    setTimeout(() => socket.close(), lingerMs);
  }

  function sendAll() {
    for (const msg of outgoing) socket.send(msg);
    let next = 0;
    const sendChunk = () => {
      const end = Math.min(count, next + chunk);
      for (; next < end; next++) socket.send(generated(next, size));
      if (next < count) {
        socket.once('drain', sendChunk);
      } else {
        allSent = true;
        maybeClose();
      }
    };
    sendChunk();
  }

  // -- events ----------------------------------------------------------------
  socket.on('open', () => {
    emit({ event: 'open', sid: socket.id, transport: socket.transport.name });
    if (!scenario.sendAfterUpgrade) sendAll();
  });

  socket.on('upgrade', (transport) => {
    emit({ event: 'upgrade', transport: transport.name });
    if (scenario.sendAfterUpgrade) sendAll();
  });

  socket.on('upgradeError', (err) => {
    emit({ event: 'upgradeError', ...describe(err) });
  });

  socket.on('message', (data) => {
    const buf = toBuffer(data);
    if (buf) {
      emit({ event: 'message', data: buf.toString('base64'), binary: true });
    } else {
      emit({ event: 'message', data: String(data), binary: false });
    }
    received += 1;
    if (!expectMet && received >= expect) {
      expectMet = true;
      maybeClose();
    }
  });

  socket.on('error', (err) => {
    const info = describe(err);
    emit({ event: 'error', ...(typeof info === 'object' ? info : { message: info }) });
  });

  socket.on('close', (reason, description) => {
    finish({ event: 'close', reason, description: describe(description) }, EXIT_CLOSED);
  });
}

process.on('uncaughtException', (err) => {
  finish({ event: 'fatal', message: String(err && err.stack || err) }, EXIT_FATAL);
});

main();
