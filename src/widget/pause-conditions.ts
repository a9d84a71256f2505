/**
 * When the widget stops taking work so as to stay gentle: the page is hidden, the device runs on battery, or
 * the visitor asked browsers to save data (Save-Data). Watches the browser signals where they exist (Battery
 * Status and Network Information are Chromium-only; elsewhere those reasons never apply). Started only after
 * consent, since the battery API is a fingerprinting surface.
 */
export type PauseReason = 'hidden' | 'battery' | 'save-data';

export interface PauseSignals {
  readonly hidden: boolean;
  readonly onBattery: boolean;
  readonly saveData: boolean;
}

export function pauseReasons(s: PauseSignals): PauseReason[] {
  const reasons: PauseReason[] = [];
  if (s.hidden) reasons.push('hidden');
  if (s.onBattery) reasons.push('battery');
  if (s.saveData) reasons.push('save-data');
  return reasons;
}

interface BatteryLike extends EventTarget {
  readonly charging: boolean;
}
interface ConnectionLike extends EventTarget {
  readonly saveData?: boolean;
}

/** Calls `onChange` with the current reasons now and whenever a signal changes. */
export function watchPauseConditions(onChange: (reasons: PauseReason[]) => void): void {
  const nav = navigator as Navigator & { getBattery?: () => Promise<BatteryLike>; connection?: ConnectionLike };
  let battery: BatteryLike | null = null;
  const report = (): void => onChange(pauseReasons({
    hidden: document.visibilityState === 'hidden',
    onBattery: battery !== null && !battery.charging,
    saveData: nav.connection?.saveData === true,
  }));
  document.addEventListener('visibilitychange', report);
  nav.connection?.addEventListener('change', report);
  if (typeof nav.getBattery === 'function') {
    nav.getBattery().then((b) => {
      battery = b;
      b.addEventListener('chargingchange', report);
      report();
    }, () => undefined);
  }
  report();
}
