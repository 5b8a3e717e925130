'use strict';
/*
 * Engine.IO v4 load generator for bench/e2e/run.py.
 *
 * Usage: node bench/e2e/loadgen.js '<json config>'
 *
 * Speaks the protocol directly (no engine.io-client, whose own overhead would
 * be measured too): websockets with the `ws` package, websocket-first
 * (`?EIO=4&transport=websocket`, the OPEN packet arrives as the first frame),
 * polling with raw keep-alive HTTP/1.1 (see HttpConnection). Pings (`2`) are
 * answered with pongs (`3`).
 * Clients never offer permessage-deflate, so zlib is not what gets measured.
 *
 * Every loop is closed: a client sends its next message when the echo of one
 * of its `window` messages in flight arrives (window 1 = strict ping-pong).
 * A run is: connect, warm up for `warmup` s, measure for `duration` s (or
 * until `maxMessages` answers), print one JSON line, exit. `timeout` s bounds
 * the whole process.
 *
 * Measured inside the window: answers received, their latency (send to
 * receipt), this process's CPU (process.cpuUsage) and the server's CPU
 * (utime+stime of /proc/<serverPid>/stat, all threads included), and what
 * the rest of the machine used meanwhile (busy time in /proc/stat minus both),
 * which tells how noisy the run was.
 *
 * With `sio: true` the messages are Socket.IO events on the default namespace
 * (bench/scaleout: python-socketio behind nginx): each session first joins the
 * namespace (`40`), a message is `420["echo",<text>]` and its answer is the
 * acknowledgement `430[...]`.  `serverPids` (several workers) sums their CPU.
 *
 * Scenarios (config.scenario):
 *   ws_echo         `clients` websockets, each echoing `window` messages in flight
 *   polling_echo    `clients` polling sessions, a long-poll GET always pending
 *                   (as engine.io-client does), messages POSTed
 *   broadcast       `clients` websockets; client 0 sends `bcast:<n>`, the server
 *                   sends it to all `clients`; the next one goes when all got it.
 *                   Counted: deliveries (clients per broadcast)
 *   polling_connect `clients` workers, each: handshake GET, then POST a CLOSE
 *                   packet; counted: handshake+close cycles
 *   memory_idle     open `connections` websockets (`clients` at a time), report
 *                   the server's RSS delta per connection after `settle` s; with
 *                   `hold` > 0 keep them open (answering pings) `hold` s more and
 *                   report the RSS delta then and the server's CPU over the hold
 *                   per connection-second (the server's ping interval is its own
 *                   option: run.py passes it on the server's command line)
 */

const fs = require('fs');
const net = require('net');
const WebSocket = require('ws');

const config = JSON.parse(process.argv[2]);
const HOST = '127.0.0.1';
const PATH = config.path || '/engine.io/';
const CLK_TCK = config.clkTck || 100;
const SEP = '\x1e';
const SERVER_PIDS = config.serverPids || [config.serverPid];
/** An Engine.IO message packet carrying `text`, and whether a packet answers one. */
const frame = config.sio ? (text) => '420' + JSON.stringify(['echo', text]) : (text) => '4' + text;
const isAnswer = config.sio ? (text) => text.startsWith('430') : (text) => text[0] === '4';

const hardTimeout = setTimeout(() => {
  fail(new Error(`timed out after ${config.timeout} s`));
}, (config.timeout || 60) * 1000);

function fail(err) {
  process.stdout.write(JSON.stringify({ error: String((err && err.stack) || err) }) + '\n');
  process.exit(2);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Server CPU in microseconds (utime+stime of every thread, live and exited), all pids. */
function serverCpuUs() {
  let total = 0;
  for (const pid of SERVER_PIDS) {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    total += ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK;
  }
  return total;
}

/** CPU time every process on the machine spent (busy jiffies of /proc/stat), microseconds. */
function machineBusyUs() {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const v = line.split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: everything but idle and iowait.
  return ((v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) * 1e6) / CLK_TCK;
}

/** Server resident set size in bytes. */
function serverRss() {
  const status = fs.readFileSync(`/proc/${config.serverPid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
}

function pad(text) {
  const size = config.payload || 32;
  return text.length >= size ? text : text + '.'.repeat(size - text.length);
}

/**
 * The measurement window: answers count only between start() and stop();
 * stop() runs after `duration` s or when `maxMessages` answers arrived.
 */
class Window {
  constructor() {
    this.phase = 'warmup';
    this.latencies = new Float64Array(config.maxMessages);
    this.count = 0;
    this.onStop = null;
  }

  start() {
    this.phase = 'measure';
    this.t0 = nowMs();
    this.cpu0 = process.cpuUsage();
    this.server0 = serverCpuUs();
    this.busy0 = machineBusyUs();
    this.timer = setTimeout(() => this.stop(), config.duration * 1000);
  }

  record(latencyMs) {
    if (this.phase !== 'measure') return;
    this.latencies[this.count++] = latencyMs;
    if (this.count >= config.maxMessages) this.stop();
  }

  stop() {
    if (this.phase !== 'measure') return;
    this.phase = 'done';
    clearTimeout(this.timer);
    this.seconds = (nowMs() - this.t0) / 1000;
    const cpu = process.cpuUsage(this.cpu0);
    this.loadCpuUs = cpu.user + cpu.system;
    this.serverCpuUs = serverCpuUs() - this.server0;
    // What neither the server nor this process used: other users of the machine.
    this.otherCpuUs = machineBusyUs() - this.busy0 - this.serverCpuUs - this.loadCpuUs;
    if (this.onStop) this.onStop();
  }

  get running() {
    return this.phase !== 'done';
  }

  result(extra) {
    const lat = Array.from(this.latencies.subarray(0, this.count)).sort((a, b) => a - b);
    const pct = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] : null);
    const n = this.count || 1;
    return Object.assign(
      {
        messages: this.count,
        seconds: this.seconds,
        msgsPerSec: this.count / this.seconds,
        p50Ms: pct(0.5),
        p99Ms: pct(0.99),
        serverCpuUsPerMsg: this.serverCpuUs / n,
        serverCpuPct: (100 * this.serverCpuUs) / (this.seconds * 1e6),
        loadCpuUsPerMsg: this.loadCpuUs / n,
        loadCpuPct: (100 * this.loadCpuUs) / (this.seconds * 1e6),
        otherCpuPct: (100 * this.otherCpuUs) / (this.seconds * 1e6),
      },
      extra || {},
    );
  }

  /** Warm up, measure, resolve when the window closed. */
  async run() {
    await sleep(config.warmup * 1000);
    await new Promise((resolve) => {
      this.onStop = resolve;
      this.start();
    });
  }
}

/** A websocket-first Engine.IO session; resolves once the OPEN packet arrived. */
function openWebSocket(onMessage) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${HOST}:${config.port}${PATH}?EIO=4&transport=websocket`, {
      perMessageDeflate: false,
    });
    let open = false;
    ws.on('message', (data) => {
      const text = data.toString();
      if (!open) {
        if (config.sio && text.startsWith('40')) {
          open = true; // the namespace CONNECT answered
          return resolve(ws);
        }
        if (text[0] !== '0') return reject(new Error(`expected OPEN, got ${text.slice(0, 80)}`));
        if (config.sio) return ws.send('40');
        open = true;
        return resolve(ws);
      }
      if (text === '2') return ws.send('3');
      onMessage(text);
    });
    ws.on('error', (err) => (open ? fail(err) : reject(err)));
    ws.on('close', () => {
      if (!open) reject(new Error('closed before OPEN'));
    });
  });
}

/** Run `count` async jobs, at most `concurrency` at a time. */
async function pool(count, concurrency, job) {
  let next = 0;
  const worker = async () => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(count, concurrency) }, worker));
}

async function wsEcho() {
  const win = new Window();
  const clients = [];
  for (let i = 0; i < config.clients; i++) {
    const client = { sent: [], seq: 0 };
    client.send = () => {
      client.sent.push(nowMs());
      client.ws.send(frame(pad(`c${i}:${client.seq++}:`)));
    };
    client.ws = await openWebSocket((text) => {
      if (!isAnswer(text)) return;
      win.record(nowMs() - client.sent.shift());
      if (win.running) client.send();
    });
    clients.push(client);
  }
  for (const client of clients) for (let k = 0; k < config.window; k++) client.send();
  await win.run();
  return win.result({ clients: config.clients, window: config.window });
}

async function broadcast() {
  const win = new Window();
  const sentAt = new Map();
  const pending = new Map();
  let seq = 0;
  const clients = [];
  let sender = null;
  const sendNext = () => {
    const n = seq++;
    sentAt.set(n, nowMs());
    pending.set(n, config.clients);
    sender.send(pad(`4bcast:${n}:`));
  };
  const onMessage = (text) => {
    if (!text.startsWith('4bcast:')) return;
    const n = Number(text.slice(7, text.indexOf(':', 7)));
    win.record(nowMs() - sentAt.get(n));
    const left = pending.get(n) - 1;
    if (left > 0) return pending.set(n, left);
    pending.delete(n);
    sentAt.delete(n);
    if (win.running) sendNext();
  };
  for (let i = 0; i < config.clients; i++) clients.push(await openWebSocket(onMessage));
  sender = clients[0];
  for (let k = 0; k < config.window; k++) sendNext();
  await win.run();
  return win.result({ clients: config.clients, window: config.window });
}

/**
 * One keep-alive HTTP/1.1 connection; requests queue, one in flight (no
 * pipelining), and a `Connection: close` response (werkzeug sends one with
 * every chunked response) makes the next request reconnect. Hand-rolled over
 * `net` because node's http module spent about twice this CPU per request and
 * made the load generator the bottleneck of the polling scenarios.
 */
class HttpConnection {
  constructor() {
    this.sock = null;
    this.buf = Buffer.alloc(0);
    this.pending = null;
    this.queue = [];
  }

  connect() {
    const sock = net.connect(config.port, HOST);
    sock.setNoDelay(true);
    sock.on('data', (data) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
      this.parse(false);
    });
    sock.on('error', (err) => this.settle(null, err));
    sock.on('close', () => {
      if (this.sock !== sock) return;
      this.sock = null;
      this.parse(true); // a response delimited by the connection's end
      this.settle(null, new Error('connection closed'));
    });
    this.sock = sock;
    this.buf = Buffer.alloc(0);
  }

  /** Resolves to {status, body}. */
  request(method, path, body) {
    return new Promise((resolve, reject) => {
      this.queue.push({ method, path, body, resolve, reject });
      if (!this.pending) this.sendNext();
    });
  }

  sendNext() {
    const next = this.queue.shift();
    if (!next) return;
    const { method, path, body } = next;
    if (!this.sock) this.connect();
    this.pending = next;
    let head = `${method} ${path} HTTP/1.1\r\nHost: ${HOST}:${config.port}\r\n`;
    if (body !== undefined) {
      head += `Content-Type: text/plain;charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
    }
    this.sock.write(head + '\r\n' + (body === undefined ? '' : body));
  }

  settle(response, err) {
    const pending = this.pending;
    this.pending = null;
    if (!pending) return;
    if (err) pending.reject(err);
    else pending.resolve(response);
    this.sendNext();
  }

  /** Settle the pending request once its whole response is buffered. */
  parse(atEnd) {
    const buf = this.buf;
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0 || !this.pending) return;
    const head = buf.toString('latin1', 0, end).toLowerCase();
    const status = Number(head.slice(9, 12));
    let body;
    let rest;
    const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
    if (length) {
      rest = end + 4 + Number(length[1]);
      if (buf.length < rest) return;
      body = buf.toString('utf8', end + 4, rest);
    } else if (/\r\ntransfer-encoding:\s*chunked/.test(head)) {
      const parts = [];
      let pos = end + 4;
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', pos);
        if (lineEnd < 0) return;
        const size = parseInt(buf.toString('latin1', pos, lineEnd), 16);
        if (buf.length < lineEnd + 4 + size) return;
        if (size === 0) {
          rest = lineEnd + 4;
          break;
        }
        parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        pos = lineEnd + 4 + size;
      }
      body = Buffer.concat(parts).toString();
    } else {
      if (!atEnd) return;
      rest = buf.length;
      body = buf.toString('utf8', end + 4);
    }
    this.buf = buf.subarray(rest);
    if (/\r\nconnection:\s*close/.test(head) && this.sock) {
      this.sock.destroy();
      this.sock = null;
    }
    this.settle({ status, body });
  }
}

async function pollingHandshake(conn) {
  const res = await conn.request('GET', `${PATH}?EIO=4&transport=polling`);
  if (res.status !== 200 || res.body[0] !== '0') {
    throw new Error(`handshake failed: ${res.status} ${res.body.slice(0, 80)}`);
  }
  return JSON.parse(res.body.slice(1)).sid;
}

async function post(conn, url, body) {
  const res = await conn.request('POST', url, body);
  if (res.status !== 200) throw new Error(`POST ${res.status} ${res.body.slice(0, 80)}`);
}

async function pollingEcho() {
  const win = new Window();
  const clients = [];
  for (let i = 0; i < config.clients; i++) {
    // Two connections, as a browser uses: the long-poll GET and the POSTs.
    const getConn = new HttpConnection();
    const postConn = new HttpConnection();
    const url = `${PATH}?EIO=4&transport=polling&sid=${await pollingHandshake(getConn)}`;
    if (config.sio) await post(postConn, url, '40'); // its answer arrives on the first poll
    const client = { sent: [], seq: 0, pong: false };
    client.send = () => {
      client.sent.push(nowMs());
      const message = frame(pad(`p${i}:${client.seq++}:`));
      post(postConn, url, client.pong ? '3' + SEP + message : message).catch(fail);
      client.pong = false;
    };
    // The long-poll loop: one GET always pending, like engine.io-client.
    client.poll = async () => {
      while (win.running) {
        const res = await getConn.request('GET', url);
        if (res.status !== 200) throw new Error(`GET ${res.status} ${res.body.slice(0, 80)}`);
        for (const packet of res.body.split(SEP)) {
          // Rare (pingInterval is 25 s): the PONG rides on the next message's POST.
          if (packet === '2') client.pong = true;
          else if (isAnswer(packet)) {
            win.record(nowMs() - client.sent.shift());
            if (win.running) client.send();
          }
        }
      }
    };
    clients.push(client);
  }
  for (const client of clients) {
    client.poll().catch((err) => win.running && fail(err));
    for (let k = 0; k < config.window; k++) client.send();
  }
  await win.run();
  return win.result({ clients: config.clients, window: config.window });
}

async function pollingConnect() {
  const win = new Window();
  const worker = async () => {
    const conn = new HttpConnection();
    while (win.running) {
      const t0 = nowMs();
      const sid = await pollingHandshake(conn);
      await post(conn, `${PATH}?EIO=4&transport=polling&sid=${sid}`, '1');
      win.record(nowMs() - t0);
    }
  };
  const workers = Array.from({ length: config.clients }, () => worker().catch(fail));
  await win.run();
  await Promise.all(workers);
  return win.result({ clients: config.clients });
}

async function memoryIdle() {
  const ignore = () => {};
  // Warm up: lazy imports, first-use caches and thread pools of the server.
  const warm = [];
  await pool(Math.min(50, config.connections), config.clients, async () => {
    warm.push(await openWebSocket(ignore));
  });
  for (const ws of warm) ws.close();
  await sleep(config.warmup * 1000);
  const rss0 = serverRss();
  const cpu0 = serverCpuUs();
  const t0 = nowMs();
  const sockets = [];
  await pool(config.connections, config.clients, async () => {
    sockets.push(await openWebSocket(ignore));
  });
  const connectSeconds = (nowMs() - t0) / 1000;
  const cpu = serverCpuUs() - cpu0;
  await sleep(config.settle * 1000);
  const rss1 = serverRss();
  const result = {
    connections: sockets.length,
    rssBefore: rss0,
    rssAfter: rss1,
    bytesPerConn: (rss1 - rss0) / sockets.length,
    connectsPerSec: sockets.length / connectSeconds,
    serverCpuUsPerConnect: cpu / sockets.length,
  };
  if (!(config.hold > 0)) return result;
  // The hold: every connection idle but for the server's pings (answered in
  // openWebSocket). Bounded: `hold` s, then the process exits.
  let closed = 0;
  for (const ws of sockets) ws.on('close', () => closed++);
  const load0 = process.cpuUsage();
  const busy0 = machineBusyUs();
  const hold0 = serverCpuUs();
  const h0 = nowMs();
  await sleep(config.hold * 1000);
  const holdSeconds = (nowMs() - h0) / 1000;
  const holdCpu = serverCpuUs() - hold0;
  const load = process.cpuUsage(load0);
  const loadUs = load.user + load.system;
  const rss2 = serverRss();
  return Object.assign(result, {
    holdSeconds,
    closedDuringHold: closed,
    rssHeld: rss2,
    bytesPerConnHeld: (rss2 - rss0) / sockets.length,
    serverCpuPctHold: (100 * holdCpu) / (holdSeconds * 1e6),
    serverCpuUsPerConnSec: holdCpu / (sockets.length * holdSeconds),
    loadCpuPct: (100 * loadUs) / (holdSeconds * 1e6),
    otherCpuPct: (100 * (machineBusyUs() - busy0 - holdCpu - loadUs)) / (holdSeconds * 1e6),
  });
}

const SCENARIOS = {
  ws_echo: wsEcho,
  polling_echo: pollingEcho,
  broadcast,
  polling_connect: pollingConnect,
  memory_idle: memoryIdle,
};

SCENARIOS[config.scenario]()
  .then((result) => {
    clearTimeout(hardTimeout);
    process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
  })
  .catch(fail);
