/**
 * Counters of the signaling server and their Prometheus text exposition (format 0.0.4), served at /metrics.
 */

export interface MetricsSnapshot {
  peers: number;
  connections: number;
  relays: number;
  rejections: Record<string, number>;
}

export class SignalingMetrics {
  relays = 0;
  joins = 0;
  private readonly rejectionsByCode = new Map<string, number>();

  reject(code: string): void {
    this.rejectionsByCode.set(code, (this.rejectionsByCode.get(code) ?? 0) + 1);
  }

  rejections(): Record<string, number> {
    return Object.fromEntries(this.rejectionsByCode);
  }

  /** Prometheus text; `peersByCloud` lists every cloud to report (private clouds with 0 peers included). */
  render(peersByCloud: ReadonlyMap<string, number>, connections: number): string {
    const lines: string[] = [
      '# HELP nephele_signaling_peers Peers joined to each cloud.',
      '# TYPE nephele_signaling_peers gauge',
    ];
    for (const [cloud, n] of [...peersByCloud].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      lines.push(`nephele_signaling_peers{cloud="${escapeLabel(cloud)}"} ${n}`);
    }
    lines.push(
      '# HELP nephele_signaling_connections Open WebSocket connections.',
      '# TYPE nephele_signaling_connections gauge',
      `nephele_signaling_connections ${connections}`,
      '# HELP nephele_signaling_relays_total Signals relayed between peers.',
      '# TYPE nephele_signaling_relays_total counter',
      `nephele_signaling_relays_total ${this.relays}`,
      '# HELP nephele_signaling_joins_total Successful joins.',
      '# TYPE nephele_signaling_joins_total counter',
      `nephele_signaling_joins_total ${this.joins}`,
      '# HELP nephele_signaling_rejections_total Error replies sent, by code.',
      '# TYPE nephele_signaling_rejections_total counter',
    );
    for (const [code, n] of [...this.rejectionsByCode].sort(([a], [b]) => (a < b ? -1 : 1))) {
      lines.push(`nephele_signaling_rejections_total{code="${escapeLabel(code)}"} ${n}`);
    }
    return lines.join('\n') + '\n';
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
