/**
 * The browser node: one per profile and cloud, living in a SharedWorker shared by the profile's tabs (or in a
 * dedicated Worker where SharedWorker is missing). It owns the identity and the NodeCore. Tabs attach through a
 * `TabSession` each; one elected tab lends it the WebRTC edge, every tab lends it a sandbox runner.
 * A tab is known to be gone when the worker obtains the Web Lock that the tab held for its whole life.
 */
import * as Comlink from 'comlink';
import type { PeerId } from '../core/ids.ts';
import { NepheleError } from '../core/errors.ts';
import type { Identity } from '../identity/identity.ts';
import { loadCloudSecret, loadOrCreateIdentity, saveCloudSecret } from '../identity/browser-identity-store.ts';
import type { SandboxRunner } from './job-service.ts';
import { NodeCore } from './node-core.ts';
import { RemoteEdge } from './edge-port.ts';
import { identityAuthority, type IdentityAuthority } from './authenticator.ts';
import { snapshotDiffer, tabLockName, type JobRequest, type NodeSnapshot, type SnapshotPatch } from './api.ts';
import { markJoin } from '../net/join-marks.ts';

/** Settings the first tab of a profile chooses for its node. */
export interface NodeSettings {
  readonly tickMs: number;
}

interface Started {
  readonly identity: Identity;
  readonly core: NodeCore;
  readonly authority: IdentityAuthority;
}

export class WorkerNode {
  private started: Promise<Started> | null = null;
  private secret: string | null = null;
  private readonly runners = new Map<string, SandboxRunner>();
  private readonly tabs = new Set<string>();
  private readonly unsubscribers = new Map<string, () => void>();
  private readonly hidden = new Set<string>();
  private readonly catchUp = new Map<string, () => void>();
  private edgeTab: string | null = null;
  private edge: RemoteEdge | null = null;
  private nextRunner = 0;

  constructor(readonly cloud: string) {}

  start(secret: string | null, settings: NodeSettings): Promise<Started> {
    this.started ??= (async () => {
      this.secret = secret ?? (await loadCloudSecret(this.cloud));
      if (secret) await saveCloudSecret(this.cloud, secret);
      const identity = await loadOrCreateIdentity();
      markJoin('identity-ready');
      const tickMs = Number.isFinite(settings.tickMs) ? Math.min(60_000, Math.max(100, settings.tickMs)) : 1000;
      const core = new NodeCore({ identity, cloud: this.cloud, tickMs, runner: () => this.pickRunner() });
      core.start();
      return { identity, core, authority: identityAuthority(identity, () => this.secret) };
    })();
    return this.started;
  }

  async addTab(tabId: string): Promise<void> {
    const { core } = await this.need();
    this.tabs.add(tabId);
    core.tabs = this.tabs.size;
    // Granted only once the tab has closed and released the lock it holds for its lifetime.
    void navigator.locks.request(tabLockName(this.cloud, tabId), async () => this.removeTab(tabId));
  }

  /**
   * Streams snapshot patches (api.ts: only the parts that changed) to a tab until it closes (a closed tab's
   * comlink proxy would pile up unanswered calls). A hidden tab gets none; it gets the latest when shown again.
   */
  async subscribeTab(tabId: string, listener: (patch: SnapshotPatch) => void): Promise<void> {
    const { core } = await this.need();
    this.unsubscribers.get(tabId)?.();
    const diff = snapshotDiffer();
    let missed = false;
    const send = (snap: NodeSnapshot): void => {
      if (this.hidden.has(tabId)) {
        missed = true;
        return;
      }
      missed = false;
      void Promise.resolve(listener(diff(snap))).catch(() => undefined);
    };
    this.catchUp.set(tabId, () => {
      if (missed) send(core.snapshot());
    });
    const unsubscribe = core.subscribe(send);
    this.unsubscribers.set(tabId, () => {
      unsubscribe();
      this.catchUp.delete(tabId);
    });
  }

  /** Whether the tab is shown (document.visibilityState): hidden tabs are not sent snapshots. */
  setTabVisible(tabId: string, visible: boolean): void {
    if (visible) {
      this.hidden.delete(tabId);
      this.catchUp.get(tabId)?.();
    } else {
      this.hidden.add(tabId);
    }
  }

  registerRunner(tabId: string, runner: SandboxRunner): void {
    this.runners.set(tabId, runner);
  }

  async attachEdge(tabId: string, port: MessagePort): Promise<void> {
    const { core } = await this.need();
    this.edge?.close();
    // A tab can claim the edge before the old holder's departure is processed; say so, as removeTab then won't.
    if (this.edgeTab !== null && this.edgeTab !== tabId) core.onLog('info', 'the connection-holding tab changed; this tab took the edge over');
    this.edgeTab = tabId;
    this.edge = new RemoteEdge(port, core);
    core.attachEdge(this.edge);
  }

  async need(): Promise<Started> {
    if (!this.started) throw new NepheleError('E_NOT_STARTED', 'the node has not been started by a tab yet');
    return this.started;
  }

  private removeTab(tabId: string): void {
    this.tabs.delete(tabId);
    this.hidden.delete(tabId);
    this.runners.delete(tabId);
    this.unsubscribers.get(tabId)?.();
    this.unsubscribers.delete(tabId);
    void this.need().then(({ core }) => {
      core.tabs = this.tabs.size;
      if (this.edgeTab === tabId) {
        this.edge?.close();
        this.edge = null;
        this.edgeTab = null;
        core.attachEdge(null);
        core.onLog('info', 'the connection-holding tab closed; waiting for another tab to take over');
      }
    });
  }

  private pickRunner(): SandboxRunner | null {
    const all = [...this.runners.values()];
    if (all.length === 0) return null;
    return all[this.nextRunner++ % all.length] ?? null;
  }
}

/** The API one tab sees (exposed with comlink on that tab's port). */
export class TabSession {
  private tabId: string | null = null;

  constructor(private readonly node: WorkerNode) {}

  async init(tabId: string, secret: string | null, settings: NodeSettings): Promise<{ peerId: PeerId; publicKey: Uint8Array; cloud: string }> {
    const { identity } = await this.node.start(secret, settings);
    this.tabId = tabId;
    await this.node.addTab(tabId);
    return { peerId: identity.peerId, publicKey: identity.publicKey, cloud: this.node.cloud };
  }

  /** Snapshot patches (api.ts `applySnapshotPatch` merges them); the first is a whole snapshot. */
  async subscribe(listener: (patch: SnapshotPatch) => void): Promise<void> {
    await this.node.subscribeTab(this.requireTab(), listener);
  }

  /** The tab was shown or hidden: a hidden tab is sent no snapshots until it is shown again. */
  setVisible(visible: boolean): void {
    this.node.setTabVisible(this.requireTab(), visible);
  }

  async snapshot(): Promise<NodeSnapshot> {
    return (await this.node.need()).core.snapshot();
  }

  async submitJob(request: JobRequest): Promise<string> {
    return (await this.node.need()).core.submitJob(request);
  }

  /** A command to one of the node's services (validated by the service). */
  async command(service: string, command: string, args: unknown): Promise<unknown> {
    return (await this.node.need()).core.command(service, command, args);
  }

  registerSandbox(runner: SandboxRunner): void {
    this.node.registerRunner(this.requireTab(), runner);
  }

  async attachEdge(port: MessagePort): Promise<void> {
    await this.node.attachEdge(this.requireTab(), port);
  }

  async sign(text: string): Promise<Uint8Array> {
    return (await this.node.need()).authority.sign(text);
  }

  async proveSecret(text: string): Promise<string | null> {
    return (await this.node.need()).authority.proveSecret(text);
  }

  async checkSecret(text: string, proof: string | undefined): Promise<boolean> {
    return (await this.node.need()).authority.checkSecret(text, proof);
  }

  private requireTab(): string {
    if (!this.tabId) throw new NepheleError('E_NOT_INITIALISED', 'call init() first');
    return this.tabId;
  }
}

export function exposeSession(node: WorkerNode, endpoint: Comlink.Endpoint): void {
  Comlink.expose(new TabSession(node), endpoint);
}
