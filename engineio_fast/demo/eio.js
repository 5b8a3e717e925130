// eio.js: a minimal Engine.IO v4 client for the demo page, in plain browser JS.
//
// How it works.  A session starts either with a polling handshake
// (GET ?EIO=4&transport=polling, answered with the OPEN packet "0{...}" and
// maybe more packets) or with a websocket whose first frame is the OPEN
// packet.  On polling, one GET at a time is held by the server until it has
// packets for us (a long poll), and our packets go out in POSTs, one at a
// time, joined by the record separator \x1e.  When the OPEN packet offers
// "websocket", the client probes it: it opens a websocket with the sid, sends
// "2probe", waits for "3probe", then pauses polling (the server answers the
// held GET with a noop "6"), sends "5" (upgrade) and from then on talks over
// the websocket only.  If the probe fails, polling simply goes on: that is the
// fallback.  With transports ['websocket', 'polling'] the websocket is tried
// first and a polling handshake follows if it never opens.
//
// The server pings ("2") every pingInterval; we answer "3" (pong).  No ping
// for pingInterval + pingTimeout means the server is gone ("ping timeout").
//
// Usage:
//   const socket = new Eio.Socket({transports: ['polling', 'websocket']});
//   socket.on('open', (info) => ...);        // {sid, transport}
//   socket.on('message', (data) => ...);     // string, or Uint8Array / ArrayBuffer
//   socket.on('upgrade', (transport) => ...);
//   socket.on('ping', () => ...);            // after answering a server ping
//   socket.on('close', (reason) => ...);
//   socket.send('hello');
//   socket.close();
(function (global) {
  'use strict';

  const SEPARATOR = '\x1e';
  const PROBE_TIMEOUT_MS = 10000;

  /** Decode a polling body into packets; "b..." is a base64 binary message. */
  function decodePayload(body) {
    return body.split(SEPARATOR).filter((p) => p.length > 0);
  }

  function base64ToBytes(text) {
    const raw = atob(text);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  class Socket {
    /**
     * @param {object} [options]
     * @param {string} [options.path] the Engine.IO path (default '/engine.io/')
     * @param {string[]} [options.transports] see the top of this file
     * @param {string} [options.host] host:port (default: the page's)
     * @param {boolean} [options.secure] https/wss (default: as the page)
     */
    constructor(options = {}) {
      this.path = options.path || '/engine.io/';
      this.transports = options.transports || ['polling', 'websocket'];
      this.host = options.host || global.location.host;
      this.secure = options.secure === undefined
        ? global.location.protocol === 'https:' : options.secure;
      this.readyState = 'opening';
      this.transport = null;
      this.sid = null;
      this.ws = null;
      this._listeners = {};
      this._writeBuffer = [];
      this._polling = false;   // a GET is in flight
      this._posting = false;   // a POST is in flight
      this._pausing = false;   // upgrading: no new GET or POST
      this._pauseWaiter = null;
      this._pingTimer = null;
      this._counter = 0;
      setTimeout(() => this._start(), 0);
    }

    // -- events ----------------------------------------------------------

    on(event, fn) {
      (this._listeners[event] = this._listeners[event] || []).push(fn);
      return this;
    }

    _emit(event, ...args) {
      for (const fn of this._listeners[event] || []) {
        try {
          fn(...args);
        } catch (err) {
          console.error(err);
        }
      }
    }

    // -- public API --------------------------------------------------------

    /** Send a text message (or an ArrayBuffer / typed array on websocket). */
    send(data) {
      if (typeof data === 'string') {
        this._sendPacket('4' + data);
      } else if (this.transport === 'websocket') {
        this._sendPacket(data);
      } else {
        const bytes = new Uint8Array(data.buffer || data);
        let raw = '';
        for (let i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
        this._sendPacket('b' + btoa(raw));
      }
    }

    /** Close the session: tell the server ("1"), then stop. */
    close() {
      if (this.readyState !== 'open') {
        this._onClose('forced close');
        return;
      }
      if (this.transport === 'websocket') {
        this.ws.send('1');
      } else {
        // Outside _flush: the close must go out even while a POST is pending,
        // and (keepalive) even when the page is being unloaded.
        fetch(this._url('polling'), {method: 'POST', body: '1', keepalive: true})
          .catch(() => {});
      }
      this._onClose('forced close');
    }

    // -- opening -----------------------------------------------------------

    _url(transport) {
      const scheme = transport === 'websocket'
        ? (this.secure ? 'wss' : 'ws') : (this.secure ? 'https' : 'http');
      let query = 'EIO=4&transport=' + transport;
      if (this.sid) query += '&sid=' + encodeURIComponent(this.sid);
      if (transport === 'polling') {
        // Cache buster, as the reference client does.
        query += '&t=' + Date.now().toString(36) + '.' + (this._counter++);
      }
      return scheme + '://' + this.host + this.path + '?' + query;
    }

    _start() {
      if (this.transports[0] === 'websocket') {
        this._openWebSocket();
      } else {
        this._handshakePolling();
      }
    }

    async _handshakePolling() {
      let packets;
      try {
        const res = await fetch(this._url('polling'), {cache: 'no-store'});
        if (!res.ok) throw new Error('handshake failed with HTTP ' + res.status);
        packets = decodePayload(await res.text());
      } catch (err) {
        this._onClose('transport error', err);
        return;
      }
      if (!packets.length || packets[0][0] !== '0') {
        this._onClose('transport error', new Error('no OPEN packet'));
        return;
      }
      this.transport = 'polling';
      this._onOpen(JSON.parse(packets[0].slice(1)));
      // Packets the server queued in its connect handler follow OPEN.
      for (const p of packets.slice(1)) this._onPacket(p);
      this._pollLoop();
      if (this.readyState === 'open' && this.transports.includes('websocket') &&
          this.upgrades.includes('websocket')) {
        this._probe();
      }
    }

    _openWebSocket() {
      let ws;
      try {
        ws = new WebSocket(this._url('websocket'));
      } catch (err) {
        this._webSocketFailed(err);
        return;
      }
      ws.binaryType = 'arraybuffer';
      ws.onmessage = (event) => {
        if (typeof event.data !== 'string' || event.data[0] !== '0') {
          ws.close();
          this._onClose('transport error', new Error('no OPEN packet'));
          return;
        }
        this.transport = 'websocket';
        this._useWebSocket(ws);
        this._onOpen(JSON.parse(event.data.slice(1)));
      };
      ws.onclose = () => this._webSocketFailed(new Error('websocket closed before OPEN'));
    }

    _webSocketFailed(err) {
      if (this.readyState !== 'opening') return;
      if (this.transports.includes('polling')) {
        this._handshakePolling();  // the fallback
      } else {
        this._onClose('transport error', err);
      }
    }

    _onOpen(data) {
      this.sid = data.sid;
      this.upgrades = data.upgrades || [];
      this.pingInterval = data.pingInterval;
      this.pingTimeout = data.pingTimeout;
      this.readyState = 'open';
      this._resetPingTimer();
      this._emit('open', {sid: this.sid, transport: this.transport});
    }

    // -- packets -----------------------------------------------------------

    _onPacket(packet) {
      if (this.readyState !== 'open') return;
      if (typeof packet !== 'string') {
        this._emit('message', packet);  // websocket binary frame
        return;
      }
      switch (packet[0]) {
        case '2':  // ping
          this._resetPingTimer();
          this._sendPacket('3');
          this._emit('ping');
          break;
        case '4':
          this._emit('message', packet.slice(1));
          break;
        case 'b':
          this._emit('message', base64ToBytes(packet.slice(1)));
          break;
        case '1':
          this._onClose('transport close');
          break;
        default:  // '6' noop, anything else: nothing to do
          break;
      }
    }

    _sendPacket(packet) {
      if (this.readyState !== 'open') return;
      if (this.transport === 'websocket') {
        this.ws.send(packet);
      } else {
        this._writeBuffer.push(packet);
        this._flush();
      }
    }

    _resetPingTimer() {
      clearTimeout(this._pingTimer);
      this._pingTimer = setTimeout(
        () => this._onClose('ping timeout'), this.pingInterval + this.pingTimeout);
    }

    // -- polling -------------------------------------------------------------

    async _pollLoop() {
      this._polling = true;
      while (this.readyState === 'open' && this.transport === 'polling' && !this._pausing) {
        let body;
        try {
          const res = await fetch(this._url('polling'), {cache: 'no-store'});
          if (!res.ok) throw new Error('poll failed with HTTP ' + res.status);
          body = await res.text();
        } catch (err) {
          this._polling = false;
          this._onClose('transport error', err);
          return;
        }
        for (const p of decodePayload(body)) this._onPacket(p);
      }
      this._polling = false;
      this._checkPaused();
    }

    _flush() {
      if (this.transport !== 'polling' || this._posting || this._pausing ||
          !this._writeBuffer.length) {
        return;
      }
      const body = this._writeBuffer.join(SEPARATOR);
      this._writeBuffer = [];
      this._posting = true;
      fetch(this._url('polling'), {
        method: 'POST',
        body: body,
        headers: {'Content-Type': 'text/plain;charset=UTF-8'},
      }).then((res) => {
        if (!res.ok) throw new Error('POST failed with HTTP ' + res.status);
        this._posting = false;
        this._checkPaused();
        this._flush();
      }).catch((err) => {
        this._posting = false;
        this._onClose('transport error', err);
      });
    }

    /** Resolve once no GET and no POST are in flight (polling paused). */
    _pause() {
      this._pausing = true;
      return new Promise((resolve) => {
        this._pauseWaiter = resolve;
        this._checkPaused();
      });
    }

    _checkPaused() {
      if (this._pauseWaiter && !this._polling && !this._posting) {
        const resolve = this._pauseWaiter;
        this._pauseWaiter = null;
        resolve();
      }
    }

    _resumePolling() {
      this._pausing = false;
      if (this.readyState !== 'open') return;
      if (!this._polling) this._pollLoop();
      this._flush();
    }

    // -- websocket -----------------------------------------------------------

    _probe() {
      let ws;
      try {
        ws = new WebSocket(this._url('websocket'));
      } catch (err) {
        this._emit('upgradeError', err);
        return;
      }
      ws.binaryType = 'arraybuffer';
      let settled = false;
      const fail = (why) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.onclose = ws.onmessage = ws.onerror = null;
        try { ws.close(); } catch (err) { /* already closed */ }
        this._emit('upgradeError', new Error(why));
        if (this._pausing) {
          this._pauseWaiter = null;
          this._resumePolling();
        }
      };
      const timer = setTimeout(() => fail('probe timed out'), PROBE_TIMEOUT_MS);
      ws.onopen = () => ws.send('2probe');
      ws.onclose = () => fail('probe websocket closed');
      ws.onmessage = (event) => {
        if (event.data !== '3probe') {
          fail('unexpected probe answer');
          return;
        }
        ws.onmessage = null;
        // The server answers the held GET with a noop, so the pause ends soon.
        this._pause().then(() => {
          if (settled) return;
          if (this.readyState !== 'open') {
            fail('closed while upgrading');
            return;
          }
          settled = true;
          clearTimeout(timer);
          ws.send('5');
          this.transport = 'websocket';
          this._pausing = false;
          this._useWebSocket(ws);
          const pending = this._writeBuffer;
          this._writeBuffer = [];
          for (const p of pending) ws.send(p);
          this._emit('upgrade', 'websocket');
        });
      };
    }

    _useWebSocket(ws) {
      this.ws = ws;
      ws.onmessage = (event) => this._onPacket(event.data);
      ws.onclose = () => this._onClose('transport close');
      ws.onerror = () => {};  // onclose follows
    }

    // -- closing -------------------------------------------------------------

    _onClose(reason, detail) {
      if (this.readyState === 'closed') return;
      this.readyState = 'closed';
      clearTimeout(this._pingTimer);
      this._writeBuffer = [];
      if (this.ws) {
        this.ws.onclose = this.ws.onmessage = this.ws.onerror = null;
        try { this.ws.close(); } catch (err) { /* already closed */ }
      }
      this._emit('close', reason, detail);
    }
  }

  global.Eio = {Socket: Socket, protocol: 4};
})(window);
