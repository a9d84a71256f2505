/**
 * CPU time of Chromium's processes, read from /proc (Linux only): utime + stime of every thread, in clock ticks
 * (100 per second here), summed by process type and thread name — to see where a bench's CPU goes — and the
 * machine's busy and idle ticks over all cores (/proc/stat).
 */
import { readdirSync, readFileSync } from 'node:fs';

export const CLOCK_TICKS_PER_SECOND = 100;

/** Ticks so far per "process type / thread name" (the pid appended when `withPid`). */
export function chromiumCpuTicks(withPid = false): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!/chrom/i.test(cmd)) continue;
      const type = /--type=([a-z-]+)/.exec(cmd)?.[1] ?? 'browser';
      const sub = /--utility-sub-type=([\w.]+)/.exec(cmd)?.[1];
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        const name = stat.slice(stat.indexOf('(') + 1, close).replace(/\d+$/, '#');
        const fields = stat.slice(close + 2).split(' ');
        const key = `${sub ?? type} / ${name}${withPid ? ` ${pid}` : ''}`;
        out.set(key, (out.get(key) ?? 0) + Number(fields[11]) + Number(fields[12]));
      }
    } catch {
      // The process or thread ended while it was read.
    }
  }
  return out;
}

/** Seconds of CPU all running Chromium threads have used so far. */
export function chromiumCpuSeconds(): number {
  let ticks = 0;
  for (const t of chromiumCpuTicks().values()) ticks += t;
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** The machine's CPU ticks so far, all cores: busy (user, nice, system, irq, softirq, steal) and idle (idle, iowait). */
export function machineTicks(): { busy: number; idle: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = cpu;
  return { busy: user + nice + system + irq + softirq + steal, idle: idle + iowait };
}
