/**
 * The widget's DOM (static markup in widget.html): shows one of its views (asking, declined, lending), fills in
 * fields with textContent only, and wires the buttons to the handlers the composition root gives it.
 */
import type { LendingState } from './host-messages.ts';
import type { LendingView } from './lending.ts';

export interface WidgetHandlers {
  optIn(): void;
  decline(): void;
  stop(): void;
  setCpuPercent(percent: number): void;
  setLendStorage(on: boolean): void;
}

export interface WidgetDom {
  show(state: LendingState): void;
  setField(name: string, text: string): void;
  showError(message: string | null): void;
  renderLending(view: LendingView): void;
  setCpuCap(percent: number): void;
  /** Shows a link to lend from the cloud's own page (where this frame cannot lend). */
  offerCloudPage(href: string): void;
}

export function bindWidgetDom(root: HTMLElement, handlers: WidgetHandlers): WidgetDom {
  const field = (name: string): HTMLElement | null => root.querySelector<HTMLElement>(`[data-field="${name}"]`);
  const setField = (name: string, text: string): void => {
    for (const el of root.querySelectorAll<HTMLElement>(`[data-field="${name}"]`)) el.textContent = text;
  };
  const setList = (name: string, items: readonly string[], empty: string): void => {
    const list = root.querySelector<HTMLElement>(`[data-list="${name}"]`);
    if (!list) return;
    list.replaceChildren(...(items.length > 0 ? items : [empty]).map((text) => {
      const li = document.createElement('li');
      li.textContent = text;
      return li;
    }));
  };
  const capSelect = root.querySelector<HTMLSelectElement>('[data-action="cpu-cap"]');

  for (const button of root.querySelectorAll<HTMLButtonElement>('button[data-action]')) {
    button.addEventListener('click', () => {
      const action = button.dataset.action;
      if (action === 'opt-in') handlers.optIn();
      else if (action === 'decline') handlers.decline();
      else if (action === 'stop') handlers.stop();
    });
  }
  capSelect?.addEventListener('change', () => handlers.setCpuPercent(Number(capSelect.value)));
  const storageBox = root.querySelector<HTMLInputElement>('[data-action="lend-storage"]');
  storageBox?.addEventListener('change', () => handlers.setLendStorage(storageBox.checked));

  return {
    show(state) {
      root.dataset.state = state;
      const view = state === 'asking' || state === 'error' ? 'asking' : state === 'declined' ? 'declined' : 'lending';
      // A keyboard user who pressed a button of the view being hidden would be left with focus on nothing: move
      // it to the new view's first line (never on page load, when focus is not in the widget).
      const active = document.activeElement;
      const leaving = active instanceof HTMLElement ? active.closest<HTMLElement>('section[data-view]') : null;
      const focusWasHere = leaving !== null && root.contains(leaving) && leaving.dataset.view !== view;
      for (const section of root.querySelectorAll<HTMLElement>('section[data-view]')) section.hidden = section.dataset.view !== view;
      if (focusWasHere) root.querySelector<HTMLElement>(`section[data-view="${view}"] [data-focus-target]`)?.focus();
      for (const button of root.querySelectorAll<HTMLButtonElement>('[data-action="opt-in"]')) button.disabled = state === 'error';
    },
    setField,
    showError(message) {
      const el = field('error');
      if (!el) return;
      el.hidden = message === null;
      el.textContent = message ?? '';
    },
    renderLending(view) {
      const paused = view.pausedBecause.length > 0;
      setField('status', view.peerId === ''
        ? 'Starting…'
        : paused
          ? `Paused (${view.pausedBecause.join(', ')}): not taking tasks.`
          : view.signaling === 'joined' || view.links > 0
            ? `Lending: up to ${view.cpuPercent}% CPU, one task at a time.`
            : `Connecting to the cloud (${view.signaling})…`);
      setField('links', String(view.links));
      setField('tasks', String(view.totals.tasksRun));
      setField('cpuSeconds', `${(view.totals.cpuMs / 1000).toFixed(1)} s`);
      // Ran: what this page's sandboxes ran. Accepted: the node's credit, what other peers' quorums accepted.
      setField('acceptedTasks', String(view.accepted.tasks));
      // Three decimals: a short task's accepted time (a few ms) must not read as "0.0 s".
      setField('acceptedSeconds', `${view.accepted.seconds < 100 ? view.accepted.seconds.toFixed(3) : view.accepted.seconds.toFixed(1)} s`);
      setField('storage', view.lendStorage ? formatBytes(view.storageBytes) : 'none (off)');
      const hoursRow = root.querySelector<HTMLElement>('[data-row="storageHours"]');
      if (hoursRow) hoursRow.hidden = view.storageGiBHours === null;
      if (view.storageGiBHours !== null) setField('storageHours', formatGiBHours(view.storageGiBHours));
      if (storageBox) storageBox.checked = view.lendStorage;
      setList('running', view.running.map((r) => `${r.name} for peer ${r.forPeer}`), 'nothing');
      setList('recent', view.totals.recent.map((r) =>
        `${r.name}${r.forPeer ? ` for peer ${r.forPeer}` : ''}: ${(r.durationMs / 1000).toFixed(2)} s${r.ok ? '' : ` (${r.code ?? 'failed'})`}`,
      ), 'nothing yet');
    },
    offerCloudPage(href) {
      const box = root.querySelector<HTMLElement>('[data-blocked]');
      const link = root.querySelector<HTMLAnchorElement>('[data-cloud-link]');
      if (!box || !link) return;
      link.href = href;
      box.hidden = false;
    },
    setCpuCap(percent) {
      if (!capSelect) return;
      if (![...capSelect.options].some((o) => o.value === String(percent))) {
        const option = document.createElement('option');
        option.value = String(percent);
        option.textContent = `${percent}%`;
        capSelect.append(option);
      }
      capSelect.value = String(percent);
    },
  };
}

/** GiB-hours with enough digits to see a small lender's count move (100 MB for an hour is ~0.1). */
export function formatGiBHours(gibHours: number): string {
  return `${gibHours < 10 ? gibHours.toFixed(3) : gibHours.toFixed(1)} GiB·h`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
