/**
 * What the SubmitterBook unit tests share: a one-task WASI job with k-of-n redundancy, a capable host, peer ids,
 * the lease a pull answered with, and a host's result for a lease.
 */
import { parseJobSpec, type JobSpec } from '../../../src/protocols/scheduler/job-model.ts';
import type { HostCapabilities } from '../../../src/protocols/scheduler/host-match.ts';
import type { Outgoing } from '../../../src/protocols/scheduler/types.ts';
import type { LeaseMessage, ResultMessage } from '../../../src/wire/scheduler.ts';

export const peer = (n: number): string => n.toString(16).padStart(40, '0');

export const HOST_CAPS: HostCapabilities = { cores: 4, ramMB: 4096, gpuMemoryMB: 0, diskMB: 10_000, kinds: ['wasi'] };

/** One task, 1 s time limit, k of n hosts must agree. */
export function oneTaskJob(n: number, k: number): JobSpec {
  const parsed = parseJobSpec({
    image: { kind: 'wasi', sha256: 'ab'.repeat(32), size: 100 }, timeLimitMs: 1_000, redundancy: { n, k },
    tasks: [{ args: ['x'], env: {}, stdin: '' }],
  });
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

/** The lease among what a pull was answered with, if any. */
export const leaseOf = (out: Outgoing[]): LeaseMessage | undefined => out.find((o) => o.msg.t === 'lease')?.msg as LeaseMessage | undefined;

/** A successful result for `lease` whose digest (and stdout) is `digest`. */
export const resultFor = (lease: LeaseMessage, digest: string): ResultMessage => ({
  v: lease.v, t: 'result', jobId: lease.jobId, lease: lease.lease, digest, ok: true, exitCode: 0, code: null,
  stdout: digest, stderr: '', durationMs: 1,
});
