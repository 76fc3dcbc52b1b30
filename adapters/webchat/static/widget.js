/* botrt live-chat widget: the client side of /chat/{slug}/ws.
 *
 * Protocol (JSON text frames tagged by "type"):
 *   out: hello {session?, last_seq}, message {text, client_id}, postback {payload, title, client_id}
 *   in:  welcome {session}, ack {client_id}, message {seq, text, buttons?}, delta {text},
 *        typing, error {code, message}
 *
 * Server data is only ever put in the page through textContent / text nodes, never innerHTML.
 * The session survives reloads (localStorage); last_seq lives in memory only, so a fresh page
 * says last_seq 0 and the server replays the conversation, and a reconnect within the page's
 * lifetime asks only for what it missed.
 */
(function () {
  'use strict';

  var BACKOFF_MIN_MS = 500;
  var BACKOFF_MAX_MS = 10000;
  var WELCOME_TIMEOUT_MS = 15000;
  var TYPING_MS = 3000;
  var UNAVAILABLE_RETRY_MS = 2000;
  var NEAR_BOTTOM_PX = 80;

  var app = document.getElementById('botrt-app');
  var list = document.getElementById('botrt-messages');
  var scroller = document.getElementById('botrt-scroll') || list;
  var input = document.getElementById('botrt-input');
  var sendButton = document.getElementById('botrt-send');
  var form = document.getElementById('botrt-form');
  var statusLine = document.getElementById('botrt-status');
  var typing = document.getElementById('botrt-typing');
  var closeButton = document.getElementById('botrt-close');

  var memoryStore = {};        // stands in for localStorage where that is unavailable
  var slug = resolveSlug();
  var SESSION_KEY = 'botrt:session:' + slug;

  var ws = null;
  var online = false;          // welcome received on the current socket
  var everOnline = false;
  var attempt = 0;
  var retryTimer = null;
  var welcomeTimer = null;
  var typingTimer = null;
  var resendTimer = null;
  var session = storageGet(SESSION_KEY);
  var lastSeq = 0;             // highest bot message seq rendered; memory only
  var pending = new Map();     // client_id -> {frame, el}: sent or queued, not yet acked
  var provisional = null;      // {el, text}: the bot bubble being streamed by deltas
  var parentOrigin = null;     // set when embed.js, our parent frame, says hello

  // ---------------------------------------------------------------- helpers

  function resolveSlug() {
    var fromPage = app ? app.getAttribute('data-slug') : null;
    if (fromPage && fromPage !== '{{SLUG}}') return fromPage;
    // Served without substitution (e.g. opened from disk): /chat/<slug>
    var match = /\/chat\/([^\/?#]+)/.exec(location.pathname);
    return match ? decodeURIComponent(match[1]) : 'demo';
  }

  function wsUrl() {
    return (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host +
      '/chat/' + encodeURIComponent(slug) + '/ws';
  }

  // localStorage can throw (blocked third-party storage, private modes): fall back to memory.
  function storageGet(key) {
    try {
      var value = window.localStorage.getItem(key);
      if (value !== null) return value;
    } catch (e) { /* ignore */ }
    return Object.prototype.hasOwnProperty.call(memoryStore, key) ? memoryStore[key] : null;
  }
  function storageSet(key, value) {
    memoryStore[key] = value;
    try { window.localStorage.setItem(key, value); } catch (e) { /* ignore */ }
  }

  function newClientId() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === 'function') {
      try { return c.randomUUID(); } catch (e) { /* insecure context */ }
    }
    var bytes = new Uint8Array(16);
    if (c && typeof c.getRandomValues === 'function') {
      c.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = '';
    for (var j = 0; j < 16; j++) {
      hex += (bytes[j] + 0x100).toString(16).slice(1);
      if (j === 3 || j === 5 || j === 7 || j === 9) hex += '-';
    }
    return hex;
  }

  function setStatus(state) {
    statusLine.textContent = state;
    statusLine.setAttribute('data-state', state);
    app.setAttribute('data-connection', state);
  }

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM_PX;
  }

  function scrollToBottom() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  // Appends text to el, turning http(s) URLs into links, without ever parsing HTML.
  var URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;
  function appendRichText(el, text) {
    var last = 0;
    var match;
    URL_RE.lastIndex = 0;
    while ((match = URL_RE.exec(text)) !== null) {
      var url = match[0].replace(/[.,;:!?)\]]+$/, '');
      var start = match.index;
      if (start > last) el.appendChild(document.createTextNode(text.slice(last, start)));
      var a = document.createElement('a');
      a.href = url;
      if (a.protocol === 'http:' || a.protocol === 'https:') {
        a.textContent = url;
        a.target = '_blank';
        a.rel = 'noopener noreferrer nofollow';
        el.appendChild(a);
      } else {
        el.appendChild(document.createTextNode(url));
      }
      last = start + url.length;
      URL_RE.lastIndex = last;
    }
    if (last < text.length) el.appendChild(document.createTextNode(text.slice(last)));
  }

  // ---------------------------------------------------------------- rendering

  function makeBubble(who) {
    var el = document.createElement('div');
    el.className = 'botrt-msg botrt-' + who;
    var body = document.createElement('div');
    body.className = 'botrt-text';
    el.appendChild(body);
    return el;
  }

  function append(el, force) {
    var stick = force || nearBottom();
    list.appendChild(el);
    if (stick) scrollToBottom();
  }

  function addUserBubble(text) {
    var el = makeBubble('user');
    el.querySelector('.botrt-text').textContent = text;
    var meta = document.createElement('span');
    meta.className = 'botrt-meta';
    el.appendChild(meta);
    setDelivery(el, 'sending');
    append(el, true);
    return el;
  }

  function setDelivery(el, state) {
    if (!el) return;
    el.setAttribute('data-status', state);
    var meta = el.querySelector('.botrt-meta');
    if (meta) meta.title = state === 'delivered' ? 'Delivered' : 'Sending…';
  }

  function addBotMessage(frame) {
    var el = makeBubble('bot');
    if (typeof frame.seq === 'number') el.setAttribute('data-seq', String(frame.seq));
    appendRichText(el.querySelector('.botrt-text'), typeof frame.text === 'string' ? frame.text : '');
    var buttons = Array.isArray(frame.buttons) ? frame.buttons : [];
    if (buttons.length) {
      var group = document.createElement('div');
      group.className = 'botrt-buttons';
      group.setAttribute('role', 'group');
      group.setAttribute('aria-label', 'Suggested replies');
      buttons.forEach(function (b) {
        if (!b || typeof b !== 'object') return;
        var title = b.title == null ? '' : String(b.title);
        var payload = b.payload == null ? title : String(b.payload);
        var button = document.createElement('button');
        button.type = 'button';
        button.className = 'botrt-button';
        button.textContent = title;
        button.addEventListener('click', function () { pressButton(group, button, title, payload); });
        group.appendChild(button);
      });
      el.appendChild(group);
    }
    append(el, false);
    return el;
  }

  function addNotice(text) {
    var previous = list.lastElementChild;
    if (previous && previous.className === 'botrt-notice' && previous.textContent === text) return previous;
    var el = document.createElement('div');
    el.className = 'botrt-notice';
    el.textContent = text;
    append(el, false);
    return el;
  }

  function showTyping() {
    typing.hidden = false;
    var stick = nearBottom();
    if (stick) scrollToBottom();
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_MS);
  }

  function hideTyping() {
    clearTimeout(typingTimer);
    typingTimer = null;
    typing.hidden = true;
  }

  function dropProvisional() {
    if (provisional) {
      if (provisional.el.parentNode) provisional.el.parentNode.removeChild(provisional.el);
      provisional = null;
    }
    list.removeAttribute('aria-busy');
  }

  // ---------------------------------------------------------------- frames in

  function onFrame(data) {
    var frame;
    try { frame = JSON.parse(data); } catch (e) { return; }
    if (!frame || typeof frame !== 'object') return;
    switch (frame.type) {
      case 'welcome': onWelcome(frame); break;
      case 'ack': onAck(frame); break;
      case 'message': onMessage(frame); break;
      case 'delta': onDelta(frame); break;
      case 'typing': showTyping(); break;
      case 'error': onError(frame); break;
      default: break;
    }
  }

  function onWelcome(frame) {
    clearTimeout(welcomeTimer);
    if (typeof frame.session === 'string' && frame.session) {
      if (session && frame.session !== session && lastSeq > 0) {
        // The server did not know our session and opened a new conversation: its seqs restart.
        lastSeq = 0;
        addNotice('New conversation');
      }
      session = frame.session;
      storageSet(SESSION_KEY, session);
    }
    online = true;
    everOnline = true;
    attempt = 0;
    setStatus('online');
    flushPending();
  }

  function onAck(frame) {
    var entry = pending.get(frame.client_id);
    if (!entry) return;
    pending.delete(frame.client_id);
    setDelivery(entry.el, 'delivered');
  }

  function onMessage(frame) {
    var seq = typeof frame.seq === 'number' ? frame.seq : Number(frame.seq);
    if (isFinite(seq) && seq > 0) {
      if (seq <= lastSeq) return;   // replayed: already on screen
      lastSeq = seq;
    }
    hideTyping();
    dropProvisional();
    addBotMessage(frame);
    notifyParent('message');
  }

  function onDelta(frame) {
    if (typeof frame.text !== 'string') return;
    hideTyping();
    if (!provisional) {
      var el = makeBubble('bot');
      el.classList.add('botrt-pending');
      provisional = { el: el, text: '' };
      list.setAttribute('aria-busy', 'true');
      append(el, false);
    }
    var stick = nearBottom();
    provisional.text += frame.text;
    provisional.el.querySelector('.botrt-text').textContent = provisional.text;
    if (stick) scrollToBottom();
  }

  function onError(frame) {
    var message = typeof frame.message === 'string' && frame.message ? frame.message : 'Something went wrong.';
    var code = typeof frame.code === 'string' ? frame.code : '';
    if (code === 'unavailable') {
      // Not stored, not acked: resend what is pending, with the same client_ids.
      clearTimeout(resendTimer);
      resendTimer = setTimeout(flushPending, UNAVAILABLE_RETRY_MS);
      message = 'Message not delivered yet, retrying…';
    }
    addNotice(message);
  }

  // ---------------------------------------------------------------- frames out

  function sendFrame(frame, el) {
    pending.set(frame.client_id, { frame: frame, el: el });
    if (online && ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify(frame));
    }
  }

  // Sends everything not yet acked, in the order typed: queued while offline, or sent on a
  // socket that died before the ack. The server acks a repeated client_id without redoing it.
  function flushPending() {
    if (!online || !ws || ws.readyState !== WebSocket.OPEN) return;
    pending.forEach(function (entry) { ws.send(JSON.stringify(entry.frame)); });
  }

  function sendText(raw) {
    var text = raw.replace(/^\s+|\s+$/g, '');
    if (!text) return;
    var el = addUserBubble(text);
    sendFrame({ type: 'message', text: text, client_id: newClientId() }, el);
  }

  function pressButton(group, button, title, payload) {
    if (button.disabled) return;
    var buttons = group.querySelectorAll('button');
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    button.classList.add('botrt-chosen');
    var el = addUserBubble(title || payload);
    sendFrame({ type: 'postback', payload: payload, title: title, client_id: newClientId() }, el);
  }

  // ---------------------------------------------------------------- connection

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (ws) return;
    online = false;
    setStatus(everOnline ? 'reconnecting' : 'connecting');
    var socket;
    try {
      socket = new WebSocket(wsUrl());
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws = socket;
    // Covers both a handshake that hangs and a server that never says welcome.
    clearTimeout(welcomeTimer);
    welcomeTimer = setTimeout(function () {
      if (ws === socket && !online) socket.close();
    }, WELCOME_TIMEOUT_MS);

    socket.onopen = function () {
      if (ws !== socket) return;
      var hello = { type: 'hello', last_seq: lastSeq };
      if (session) hello.session = session;
      socket.send(JSON.stringify(hello));
    };
    socket.onmessage = function (event) {
      if (ws !== socket) return;
      if (typeof event.data === 'string') onFrame(event.data);
    };
    socket.onerror = function () { /* a close event follows */ };
    socket.onclose = function () {
      if (ws !== socket) return;
      ws = null;
      online = false;
      clearTimeout(welcomeTimer);
      hideTyping();
      dropProvisional();   // the final message comes again on resume
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    if (retryTimer) return;
    var base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, attempt));
    attempt += 1;
    var delay = base / 2 + Math.random() * (base / 2);   // "equal jitter": [base/2, base)
    setStatus('reconnecting');
    retryTimer = setTimeout(function () { retryTimer = null; connect(); }, delay);
  }

  function reconnectNow() {
    if (ws) return;
    attempt = 0;
    clearTimeout(retryTimer);
    retryTimer = null;
    connect();
  }

  window.addEventListener('online', reconnectNow);
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible') reconnectNow();
  });

  // ---------------------------------------------------------------- embedding (embed.js)

  function notifyParent(kind) {
    if (!parentOrigin) return;
    try { window.parent.postMessage({ botrt: kind, slug: slug }, parentOrigin); } catch (e) { /* ignore */ }
  }

  window.addEventListener('message', function (event) {
    if (window.parent === window || event.source !== window.parent) return;
    var data = event.data;
    if (!data || typeof data !== 'object') return;
    if (data.botrt === 'embedded') {
      parentOrigin = event.origin;
      closeButton.hidden = false;
      document.documentElement.classList.add('botrt-embedded');
    } else if (data.botrt === 'opened' && parentOrigin === event.origin) {
      if (window.matchMedia && window.matchMedia('(pointer: fine)').matches) input.focus();
      scrollToBottom();
    }
  });

  closeButton.addEventListener('click', function () { notifyParent('close'); });
  document.addEventListener('keydown', function (event) {
    if (event.key === 'Escape' && parentOrigin) notifyParent('close');
  });

  // ---------------------------------------------------------------- input

  function autosize() {
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight, 140) + 'px';
  }

  function submit() {
    var text = input.value;
    if (!text.replace(/\s+/g, '')) return;
    input.value = '';
    autosize();
    sendText(text);
    input.focus();
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    submit();
  });

  input.addEventListener('keydown', function (event) {
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    submit();
  });

  input.addEventListener('input', autosize);

  if (sendButton && sendButton.type !== 'submit') {
    sendButton.addEventListener('click', function (event) { event.preventDefault(); submit(); });
  }

  connect();
})();
