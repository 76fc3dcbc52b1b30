/* botrt embed snippet: a floating launcher that opens the chat in an iframe.
 *
 *   <script src="https://BOT-HOST/chat/static/embed.js" data-botrt-slug="demo" async></script>
 *
 * Optional attributes: data-botrt-title (launcher label, default "Chat with us"),
 * data-botrt-color (launcher colour, any CSS colour), data-botrt-open="true" (open on load).
 * The chat lives at https://BOT-HOST/chat/<slug>, derived from this script's own src; the
 * iframe is only created on first open, so no socket is opened for visitors who never chat.
 * Everything is rendered inside a shadow root so the host page's CSS cannot reach it.
 */
(function () {
  'use strict';

  var script = document.currentScript;
  if (!script) {
    var candidates = document.querySelectorAll('script[data-botrt-slug][src*="/chat/static/embed.js"]');
    script = candidates[candidates.length - 1];
  }
  if (!script || !script.src) return;

  var slug = script.getAttribute('data-botrt-slug');
  if (!slug) {
    if (window.console) console.warn('botrt embed: data-botrt-slug is missing');
    return;
  }

  var registry = (window.__botrtEmbeds = window.__botrtEmbeds || {});
  if (registry[slug]) return;   // the snippet was pasted twice
  registry[slug] = true;

  var origin = new URL(script.src, location.href).origin;
  var chatUrl = origin + '/chat/' + encodeURIComponent(slug);
  var label = script.getAttribute('data-botrt-title') || 'Chat with us';
  var color = script.getAttribute('data-botrt-color') || '';
  var startOpen = script.getAttribute('data-botrt-open') === 'true';

  var CSS = [
    ':host { all: initial; }',
    '.launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;',
    '  width: 58px; height: 58px; border: 0; border-radius: 50%; cursor: pointer;',
    '  display: grid; place-items: center; color: #fff;',
    '  background: var(--botrt-launcher, linear-gradient(135deg, #4f46e5, #7c3aed));',
    '  box-shadow: 0 8px 24px rgba(40, 30, 120, 0.35); transition: transform .15s ease; }',
    '.launcher:hover { transform: scale(1.06); }',
    '.launcher:focus-visible { outline: 3px solid #a5b4fc; outline-offset: 3px; }',
    '.launcher svg { width: 26px; height: 26px; }',
    '.launcher .icon-close { display: none; }',
    '.launcher[aria-expanded="true"] .icon-open { display: none; }',
    '.launcher[aria-expanded="true"] .icon-close { display: block; }',
    '.badge { position: absolute; top: 4px; right: 4px; width: 12px; height: 12px; border-radius: 50%;',
    '  background: #ef4444; border: 2px solid #fff; display: none; }',
    '.launcher.unread .badge { display: block; }',
    '.panel { position: fixed; right: 20px; bottom: 92px; z-index: 2147483000;',
    '  width: 380px; height: 620px; max-height: calc(100vh - 112px); max-width: calc(100vw - 40px);',
    '  border-radius: 18px; overflow: hidden; background: #fff;',
    '  box-shadow: 0 18px 50px rgba(20, 20, 50, 0.28);',
    '  opacity: 0; transform: translateY(12px) scale(.98); transform-origin: bottom right;',
    '  pointer-events: none; visibility: hidden;',
    '  transition: opacity .18s ease, transform .18s ease, visibility 0s linear .18s; }',
    '.panel.open { opacity: 1; transform: none; pointer-events: auto; visibility: visible;',
    '  transition: opacity .18s ease, transform .18s ease; }',
    '.panel iframe { width: 100%; height: 100%; border: 0; display: block; }',
    '@media (max-width: 480px) {',
    '  .panel { right: 0; bottom: 0; width: 100vw; height: 100%; max-height: none; max-width: none; border-radius: 0; }',
    '  .panel.open ~ .launcher { display: none; }',
    '}',
    '@media (prefers-reduced-motion: reduce) { .panel, .launcher { transition: none; } }'
  ].join('\n');

  var CHAT_ICON = '<svg class="icon-open" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" ' +
    'stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.9A8 8 0 1 1 21 12z"/></svg>';
  var CLOSE_ICON = '<svg class="icon-close" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" ' +
    'stroke-linecap="round" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg>';

  function mount() {
    var host = document.createElement('div');
    host.setAttribute('data-botrt-embed', slug);
    var root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;

    var style = document.createElement('style');
    style.textContent = CSS;
    root.appendChild(style);

    var panel = document.createElement('div');
    panel.className = 'panel';
    panel.id = 'botrt-panel';
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-label', label);
    root.appendChild(panel);

    var launcher = document.createElement('button');
    launcher.type = 'button';
    launcher.className = 'launcher';
    launcher.setAttribute('aria-label', label);
    launcher.setAttribute('aria-expanded', 'false');
    launcher.setAttribute('aria-controls', 'botrt-panel');
    launcher.title = label;
    // Static markup of our own; nothing from the page or the server goes through innerHTML.
    launcher.innerHTML = CHAT_ICON + CLOSE_ICON + '<span class="badge" aria-hidden="true"></span>';
    if (color) launcher.style.setProperty('--botrt-launcher', color);
    root.appendChild(launcher);

    var iframe = null;
    var loaded = false;
    var isOpen = false;

    function ensureFrame() {
      if (iframe) return;
      iframe = document.createElement('iframe');
      iframe.src = chatUrl;
      iframe.title = label;
      iframe.setAttribute('allow', 'clipboard-write');
      iframe.addEventListener('load', function () {
        loaded = true;
        post({ botrt: 'embedded' });
        if (isOpen) post({ botrt: 'opened' });
      });
      panel.appendChild(iframe);
    }

    function post(message) {
      if (loaded && iframe.contentWindow) {
        try { iframe.contentWindow.postMessage(message, origin); } catch (e) { /* ignore */ }
      }
    }

    function setOpen(open) {
      isOpen = open;
      if (open) {
        ensureFrame();
        launcher.classList.remove('unread');
        post({ botrt: 'opened' });
      }
      panel.classList.toggle('open', open);
      launcher.setAttribute('aria-expanded', open ? 'true' : 'false');
      launcher.setAttribute('aria-label', open ? 'Close chat' : label);
      if (!open) launcher.focus();
    }

    launcher.addEventListener('click', function () { setOpen(!isOpen); });

    document.addEventListener('keydown', function (event) {
      if (isOpen && event.key === 'Escape') setOpen(false);
    });

    window.addEventListener('message', function (event) {
      if (!iframe || event.source !== iframe.contentWindow || event.origin !== origin) return;
      var data = event.data;
      if (!data || typeof data !== 'object') return;
      if (data.botrt === 'close') setOpen(false);
      else if (data.botrt === 'message' && !isOpen) launcher.classList.add('unread');
    });

    document.body.appendChild(host);
    if (startOpen) setOpen(true);

    window.botrt = window.botrt || {};
    window.botrt[slug] = {
      open: function () { setOpen(true); },
      close: function () { setOpen(false); },
      toggle: function () { setOpen(!isOpen); }
    };
  }

  if (document.body) {
    mount();
  } else {
    document.addEventListener('DOMContentLoaded', mount);
  }
})();
