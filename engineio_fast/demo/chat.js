// chat.js: the demo page.  Connects with eio.js, shows the chat, sends the form's text.
//
// ?transport= picks the transports: "upgrade" (default: polling handshake,
// then a websocket upgrade), "websocket" (websocket first, polling if it
// fails), "polling" (polling only).  The page's state is mirrored on <body>
// as data-state ("connecting" / "open" / "closed"), data-transport,
// data-id and data-pings (server pings answered), for the browser tests.
(function () {
  'use strict';

  const TRANSPORTS = {
    upgrade: ['polling', 'websocket'],
    websocket: ['websocket', 'polling'],
    polling: ['polling'],
  };
  const RECONNECT_MS = 2000;

  const choice = new URLSearchParams(window.location.search).get('transport') || 'upgrade';
  const transports = TRANSPORTS[choice] || TRANSPORTS.upgrade;
  const log = document.getElementById('log');
  const status = document.getElementById('status');
  const form = document.getElementById('form');
  const input = document.getElementById('text');
  let socket = null;
  let myId = null;
  let users = 0;

  function setState(state) {
    document.body.dataset.state = state;
    document.body.dataset.transport = (socket && socket.transport) || '';
    document.body.dataset.id = myId || '';
    if (state === 'open') {
      status.textContent = 'connected as ' + myId + ' over ' + socket.transport +
        ' · ' + users + (users === 1 ? ' user' : ' users');
    } else {
      status.textContent = state === 'closed' ? 'disconnected, reconnecting…' : 'connecting…';
    }
  }

  function addLine(className, from, text) {
    const item = document.createElement('li');
    item.className = className;
    if (from) {
      const name = document.createElement('b');
      name.textContent = from;
      item.appendChild(name);
      item.dataset.from = from;
    }
    item.appendChild(document.createTextNode(text));
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function onMessage(data) {
    if (typeof data !== 'string') return;
    let msg;
    try {
      msg = JSON.parse(data);
    } catch (err) {
      return;
    }
    switch (msg.type) {
      case 'welcome':
        myId = msg.id;
        users = msg.users;
        setState('open');
        addLine('notice', null, 'you joined as ' + msg.id);
        break;
      case 'join':
      case 'leave':
        users = msg.users;
        setState('open');
        addLine('notice', null, msg.id + (msg.type === 'join' ? ' joined' : ' left'));
        break;
      case 'chat':
        addLine(msg.from === myId ? 'chat me' : 'chat', msg.from, msg.text);
        break;
      default:
        break;
    }
  }

  function connect() {
    myId = null;
    setState('connecting');
    socket = new Eio.Socket({transports: transports});
    socket.on('message', onMessage);
    socket.on('upgrade', () => setState('open'));
    socket.on('ping', () => {
      document.body.dataset.pings = String(Number(document.body.dataset.pings || 0) + 1);
    });
    socket.on('close', (reason) => {
      addLine('notice', null, 'connection closed (' + reason + ')');
      setState('closed');
      setTimeout(connect, RECONNECT_MS);
    });
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || !socket || socket.readyState !== 'open') return;
    socket.send(text);
    input.value = '';
  });

  // Leave cleanly when the tab goes away, so the others see it at once
  // rather than at the server's ping timeout.
  window.addEventListener('pagehide', () => {
    if (socket) socket.close();
  });

  connect();
})();
