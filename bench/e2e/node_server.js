'use strict';
/*
 * Node.js engine.io server for bench/e2e/run.py: the same application as
 * bench/e2e/server.py, on the official Node.js Engine.IO server (npm
 * engine.io, version pinned in package.json), as a yardstick.
 *
 * Usage: node bench/e2e/node_server.js ['<json options>']
 *
 * Options: `pingInterval` and `pingTimeout` in seconds (server.py's
 * --ping-interval / --ping-timeout; engine.io's defaults, 25 s and 20 s,
 * when missing). Everything else is engine.io's default: polling and
 * websocket transports, maxHttpBufferSize 1 MB, httpCompression above
 * 1 KiB; perMessageDeflate is set off explicitly (the load generator never
 * offers it either).
 *
 * Listens on 127.0.0.1, a free port, prints `PORT <n>` once listening and
 * serves until SIGTERM. Handlers, as server.py's:
 *   message  a text starting with `bcast:` is sent to every connected client
 *            (the sender included); anything else is echoed to its sender.
 */

const http = require('http');
const { Server } = require('engine.io');

const BCAST_PREFIX = 'bcast:';
const options = process.argv[2] ? JSON.parse(process.argv[2]) : {};

const serverOptions = { perMessageDeflate: false };
if (options.pingInterval != null) serverOptions.pingInterval = options.pingInterval * 1000;
if (options.pingTimeout != null) serverOptions.pingTimeout = options.pingTimeout * 1000;

const httpServer = http.createServer();
const engine = new Server(serverOptions);
engine.attach(httpServer);

engine.on('connection', (socket) => {
  socket.on('message', (data) => {
    if (typeof data === 'string' && data.startsWith(BCAST_PREFIX)) {
      // engine.clients: every open session, keyed by sid (the broadcast's targets).
      for (const sid in engine.clients) engine.clients[sid].send(data);
    } else {
      socket.send(data);
    }
  });
});

httpServer.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, () => {
  process.stdout.write(`PORT ${httpServer.address().port}\n`);
});

process.on('SIGTERM', () => {
  engine.close();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
});
