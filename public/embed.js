/**
 * Nephele lending widget loader: the one tag a partner page adds.
 *
 *   <script src="https://CLOUD-ORIGIN/embed.js" data-cloud="public" data-cpu="20" data-theme="auto" async></script>
 *
 * Optional: data-accent="#2563eb", data-target="#element-id" (where to put the widget; default: right after
 * this tag). It frames CLOUD-ORIGIN/widget.html (the cloud decides which sites may frame it, with CSP
 * frame-ancestors) and re-dispatches the widget's status messages as DOM events on this script element
 * (bubbling, so `document.addEventListener` works too):
 *   nephele:status     detail = { cloud, state, optedIn, pausedBecause, links, tasksRun, cpuSeconds, storageBytes,
 *                                 acceptedSeconds?, storageGiBHours? }  (credit: CPU-seconds the cloud accepted,
 *                                 storage lent in GiB-hours; present when the widget reports them)
 *   nephele:opted-in / nephele:opted-out   when `optedIn` changes
 * Only messages from the widget's own frame AND the cloud's origin are accepted, and only well-formed status
 * messages; everything else is ignored. The page can ask for a fresh status (`script.nephele.requestStatus()`),
 * nothing more: it cannot opt the visitor in, submit work or read the peer's data.
 */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !script.src) return;
  var cloudOrigin;
  try {
    cloudOrigin = new URL(script.src).origin;
  } catch (e) {
    return;
  }
  var STATES = ['asking', 'declined', 'starting', 'lending', 'paused', 'stopped', 'error'];
  var REASONS = ['hidden', 'battery', 'save-data'];

  function count(n) {
    return typeof n === 'number' && isFinite(n) && n >= 0;
  }

  /** A copy of the status if `data` is a well-formed status message from the widget, else null. */
  function readStatus(data) {
    if (!data || typeof data !== 'object' || data.source !== 'nephele-widget' || data.v !== 1 || data.type !== 'status') return null;
    var s = data.status;
    if (!s || typeof s !== 'object' || typeof s.cloud !== 'string' || STATES.indexOf(s.state) < 0) return null;
    if (typeof s.optedIn !== 'boolean' || !Array.isArray(s.pausedBecause)) return null;
    if (!s.pausedBecause.every(function (r) { return REASONS.indexOf(r) >= 0; })) return null;
    if (!count(s.links) || !count(s.tasksRun) || !count(s.cpuSeconds) || !count(s.storageBytes)) return null;
    var out = {
      cloud: s.cloud, state: s.state, optedIn: s.optedIn, pausedBecause: Object.freeze(s.pausedBecause.slice()),
      links: s.links, tasksRun: s.tasksRun, cpuSeconds: s.cpuSeconds, storageBytes: s.storageBytes,
    };
    var optional = ['acceptedSeconds', 'storageGiBHours'];
    for (var i = 0; i < optional.length; i++) {
      var name = optional[i];
      if (s[name] === undefined) continue;
      if (!count(s[name])) return null;
      out[name] = s[name];
    }
    return Object.freeze(out);
  }

  var src = new URL('/widget.html', cloudOrigin);
  var data = script.dataset || {};
  if (data.cloud) src.searchParams.set('cloud', data.cloud);
  if (data.cpu) src.searchParams.set('cpu', data.cpu);
  if (data.theme) src.searchParams.set('theme', data.theme);
  if (data.accent) src.searchParams.set('accent', data.accent);
  src.searchParams.set('partner', location.origin);

  var iframe = document.createElement('iframe');
  iframe.src = src.href;
  iframe.title = 'Lend your computer to the Nephele cloud';
  iframe.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox');
  iframe.setAttribute('data-nephele-widget', '');
  iframe.style.border = '0';
  iframe.style.width = '100%';
  iframe.style.maxWidth = '380px';
  iframe.style.height = '220px';
  iframe.style.colorScheme = 'normal';

  var optedIn = null;
  function emit(name, detail) {
    var event = new CustomEvent(name, { detail: detail, bubbles: true });
    if (script.isConnected) script.dispatchEvent(event);
    else window.dispatchEvent(event);
  }

  window.addEventListener('message', function (event) {
    if (event.origin !== cloudOrigin || event.source !== iframe.contentWindow) return;
    var status = readStatus(event.data);
    if (!status) return;
    var height = event.data.height;
    if (count(height)) iframe.style.height = Math.min(600, Math.max(80, Math.ceil(height))) + 'px';
    emit('nephele:status', status);
    if (optedIn !== status.optedIn) {
      optedIn = status.optedIn;
      emit(optedIn ? 'nephele:opted-in' : 'nephele:opted-out', status);
    }
  });

  function requestStatus() {
    if (iframe.contentWindow) iframe.contentWindow.postMessage({ source: 'nephele-host', v: 1, type: 'get-status' }, cloudOrigin);
  }
  iframe.addEventListener('load', requestStatus);
  script.nephele = Object.freeze({ requestStatus: requestStatus });

  var target = data.target ? document.querySelector(data.target) : null;
  if (target) target.appendChild(iframe);
  else if (script.parentNode) script.parentNode.insertBefore(iframe, script.nextSibling);
  else document.body.appendChild(iframe);
})();
