// Processes by /proc (Linux): a process is its pid and its start time, so that a reused pid is never taken for
// it; the trees under a process, listed plainly or frozen (SIGSTOP) so that none escapes (sshd.ts); the
// processes a test's world started.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { pollUntil } from "../../src/common/poll.js";

/** A process: its pid and its start time (field 22 of /proc/PID/stat). */
export interface Proc {
  pid: number;
  start: string;
}

function procStat(pid: number): { state: string; ppid: number; start: string } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" "); // comm may hold spaces and parentheses
    return { state: f[0]!, ppid: Number(f[1]), start: f[19]! };
  } catch {
    return undefined;
  }
}

export function procOf(pid: number): Proc | undefined {
  const s = procStat(pid);
  return s && { pid, start: s.start };
}

export function alive(p: Proc): boolean {
  const s = procStat(p.pid);
  return !!s && s.start === p.start && s.state !== "Z" && s.state !== "X";
}

export function signal(p: Proc, sig: NodeJS.Signals): void {
  try {
    if (alive(p)) process.kill(p.pid, sig);
  } catch {
    /* gone meanwhile */
  }
}

function childrenOf(pid: number): Proc[] {
  const kids: Proc[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    const s = procStat(Number(e));
    if (s && s.ppid === pid) kids.push({ pid: Number(e), start: s.start });
  }
  return kids;
}

/** Every process of the tree under `top`, top first (synchronously, as an exit handler needs). */
export function tree(top: Proc): Proc[] {
  const all = [top];
  for (let i = 0; i < all.length; i++) all.push(...childrenOf(all[i]!.pid));
  return all;
}

/**
 * The tree under `top`, frozen: each process is stopped (SIGSTOP, waited for) before its children are listed,
 * so none forks one we would miss, and none is orphaned to init before we have it.
 */
export async function freezeTree(top: Proc): Promise<Proc[]> {
  const all = [top];
  for (let i = 0; i < all.length; i++) {
    const p = all[i]!;
    signal(p, "SIGSTOP");
    await pollUntil(() => !alive(p) || procStat(p.pid)?.state === "T", 2_000);
    all.push(...childrenOf(p.pid));
  }
  return all;
}

/**
 * Live processes whose environment or working folder names `dir` (a test world's root: its HOME,
 * TMUX_TMPDIR and git config are in every environment it hands down), with their argv: what a test
 * started, also once it was handed to init. This process is left out.
 */
export function startedIn(dir: string): (Proc & { args: string[] })[] {
  const found: (Proc & { args: string[] })[] = [];
  for (const e of readdirSync("/proc")) {
    const pid = Number(e);
    if (!/^\d+$/.test(e) || pid === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${e}/environ`, "utf8");
      if (!env.includes(dir) && !readlinkSync(`/proc/${e}/cwd`).startsWith(dir)) continue;
      const p = procOf(pid);
      if (p && alive(p))
        found.push({ ...p, args: readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0").slice(0, -1) });
    } catch {
      // it ended while we looked, or is not ours to read
    }
  }
  return found;
}

/** Live heal watchdogs of `dir` (po agents' watchdog names its project folder on its command line). */
export function watchdogPids(dir: string): number[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const args = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
        return args.some((a) => a.endsWith("watchdog.js")) && args.includes(dir);
      } catch {
        return false; // it ended while the list was read
      }
    })
    .map(Number);
}
