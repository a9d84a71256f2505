/**
 * The lending widget (widget.html), framed by a partner page through public/embed.js and served from the
 * cloud's origin, so its identity, storage and worker belong to the cloud (partitioned by the browser under the
 * partner's site). Consent first: until the visitor clicks "Lend", it only reads its own URL and its remembered
 * choice — no peer code is even downloaded, nothing connects, nothing is stored. The choice is remembered per
 * cloud and partner (with the visitor's CPU cap and whether storage is lent, off unless turned on); "Stop
 * lending" records "out" and reloads the frame, which closes every connection and sandbox the page held. The embedding page sees only the status messages of host-messages.ts.
 */
import './widget.css';
import { readConsent, writeConsent, type ConsentStorage } from './consent.ts';
import { connectHost, type LendingState, type WidgetStatus } from './host-messages.ts';
import { readWidgetParams, resolvePartnerOrigin } from './params.ts';
import { bindWidgetDom } from './view.ts';
import { readableTextOn } from './contrast.ts';
import type { Lending, LendingView } from './lending.ts';

function localStorageOrNull(): ConsentStorage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // storage blocked for this frame: the choice lasts this page only
  }
}

function main(): void {
  const root = document.getElementById('widget');
  if (!root) throw new Error('E_NO_WIDGET_ELEMENT: widget.html lacks #widget');
  const params = readWidgetParams(location.search);
  document.documentElement.dataset.theme = params.theme;
  if (params.accent) {
    document.documentElement.style.setProperty('--accent', params.accent);
    document.documentElement.style.setProperty('--accent-fg', readableTextOn(params.accent));
  }

  const framed = window.parent !== window;
  const partner = resolvePartnerOrigin({
    framed,
    claimed: params.claimedPartner,
    parentOrigin: location.ancestorOrigins?.[0] ?? null,
    referrer: document.referrer,
  });
  const partnerOrigin = partner.ok ? partner.origin : null;
  const storage = localStorageOrNull();
  const remembered = readConsent(storage, params.cloud, partnerOrigin);
  let cpuPercent = remembered?.cpuPercent ?? params.cpuPercent;
  let lendStorage = remembered?.lendStorage ?? false;

  let state: LendingState = 'asking';
  let lendingView: LendingView | null = null;
  let lending: Lending | null = null;

  const status = (): WidgetStatus => ({
    cloud: params.cloud,
    state,
    optedIn: state === 'starting' || state === 'lending' || state === 'paused',
    pausedBecause: lendingView?.pausedBecause ?? [],
    links: lendingView?.links ?? 0,
    tasksRun: lendingView?.totals.tasksRun ?? 0,
    cpuSeconds: Math.round((lendingView?.totals.cpuMs ?? 0) / 100) / 10,
    storageBytes: lendingView?.lendStorage ? lendingView.storageBytes : 0,
    acceptedSeconds: Math.round((lendingView?.accepted.seconds ?? 0) * 1000) / 1000,
    storageGiBHours: Math.round((lendingView?.storageGiBHours ?? 0) * 1000) / 1000,
  });
  let lastSent = '';
  const publish = (force = false): void => {
    dom.show(state);
    const now = status();
    const key = JSON.stringify(now);
    if (!force && key === lastSent) return;
    lastSent = key;
    host.send(now, Math.ceil(root.getBoundingClientRect().height));
  };

  const remember = (choice: 'in' | 'out'): void => {
    if (!writeConsent(storage, params.cloud, partnerOrigin, { choice, at: Date.now(), cpuPercent, lendStorage })) {
      dom.showError('Your browser does not let this widget remember your choice; it applies to this visit only.');
    }
  };

  const beginLending = (): void => {
    if (state === 'starting' || state === 'lending' || state === 'paused') return;
    state = 'starting';
    publish();
    import('./lending.ts')
      .then(({ startLending }) => startLending({
        cloud: params.cloud,
        partnerOrigin,
        cpuPercent,
        lendStorage,
        onChange: (view) => {
          lendingView = view;
          if (view.peerId) document.documentElement.dataset.peerId = view.peerId;
          state = view.peerId === '' ? 'starting' : view.pausedBecause.length > 0 ? 'paused' : 'lending';
          dom.renderLending(view);
          publish();
        },
      }))
      .then((started) => { lending = started; })
      .catch((err: unknown) => {
        state = 'error';
        dom.showError(`Could not start lending: ${err instanceof Error ? err.message : String(err)}`);
        publish();
      });
  };

  const dom = bindWidgetDom(root, {
    optIn: () => {
      if (state === 'error') return;
      remember('in');
      beginLending();
    },
    decline: () => {
      remember('out');
      state = 'declined';
      publish();
    },
    stop: () => {
      remember('out');
      state = 'stopped';
      publish();
      // Reloading drops the page's WebSocket, WebRTC links and sandboxes at once; the node's worker then has
      // no page left and ends. The reloaded widget finds "out" and starts nothing.
      location.reload();
    },
    setCpuPercent: (percent) => {
      cpuPercent = percent;
      lending?.setCpuPercent(percent);
      remember('in');
    },
    setLendStorage: (on) => {
      lendStorage = on;
      lending?.setLendStorage(on);
      remember('in');
    },
  });
  const host = connectHost(window, partnerOrigin, () => publish(true), (count) => {
    root.dataset.ignoredMessages = String(count);
  });

  dom.setField('cloud', params.cloud);
  dom.setField('cpu', String(cpuPercent));
  dom.setCpuCap(cpuPercent);
  if (partnerOrigin) dom.setField('partner', new URL(partnerOrigin).host);
  if (!partner.ok) {
    state = 'error';
    dom.showError(`${partner.code}: ${partner.message}. This widget will not lend from here.`);
  } else if (storage === null) {
    // The browser blocks storage for sites embedded in other sites (third-party storage): a peer needs its key.
    state = 'error';
    dom.showError('E_STORAGE_BLOCKED: this browser does not let embedded sites keep data, so a peer cannot live in this frame.');
    dom.offerCloudPage(new URL(`/?cloud=${encodeURIComponent(params.cloud)}`, location.origin).href);
  } else if (remembered?.choice === 'in') {
    beginLending();
  } else if (remembered?.choice === 'out') {
    state = 'declined';
  }
  publish(true);
  new ResizeObserver(() => publish(true)).observe(root);
}

main();
