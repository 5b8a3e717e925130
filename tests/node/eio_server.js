#!/usr/bin/env node
// Engine.IO v4 echo server for tests/client, built on the official Node.js
// server (npm engine.io, version pinned in package.json).
//
// Usage:  node eio_server.js [port] ['<options JSON>']
//
// Listens on 127.0.0.1 (port 0 or missing: a free port) and prints
// `PORT <n>` once listening.  The options object is passed to the
// engine.io Server (e.g. {"pingInterval": 300, "maxHttpBufferSize": 2000000}).
//
// Every message is echoed back as received (text as text, binary as binary),
// except:
//   "disconnect me"  the server closes the socket (client sees `1`);
//   "stats"          answered with '{"clients": <n>}' (JSON text).
//
// Lifecycle events are printed as one JSON object per line on stdout, the
// same shape tests/helpers/echo_server.py prints:
//   {"event":"connect","sid":"...","transport":"polling"}
//   {"event":"upgrade","sid":"...","transport":"websocket"}
//   {"event":"disconnect","sid":"...","reason":"transport close"}
"use strict";

const http = require("http");
const { Server } = require("engine.io");

const port = Number(process.argv[2] || 0);
const options = process.argv[3] ? JSON.parse(process.argv[3]) : {};

function report(event) {
  process.stdout.write(JSON.stringify(event) + "\n");
}

const httpServer = http.createServer();
const engine = new Server(options);
engine.attach(httpServer);

engine.on("connection", (socket) => {
  report({ event: "connect", sid: socket.id, transport: socket.transport.name });
  socket.on("upgrade", (transport) => {
    report({ event: "upgrade", sid: socket.id, transport: transport.name });
  });
  socket.on("message", (data) => {
    if (data === "disconnect me") {
      socket.close();
    } else if (data === "stats") {
      socket.send(JSON.stringify({ clients: engine.clientsCount }));
    } else {
      socket.send(data);
    }
  });
  socket.on("close", (reason) => {
    report({ event: "disconnect", sid: socket.id, reason: reason });
  });
});

httpServer.listen(port, "127.0.0.1", () => {
  report_port(httpServer.address().port);
});

function report_port(n) {
  process.stdout.write("PORT " + n + "\n");
}

// Stop cleanly when the test fixture terminates us.
process.on("SIGTERM", () => {
  engine.close();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
});
