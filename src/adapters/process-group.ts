// Process groups po started (a harness run, a git command with its hooks): is one alive, stop it whole.
import { pollUntil } from "../common/poll.js";

const TERM_GRACE_MS = 2000;

/** Whether process `pid` (or, negative, process group -pid) exists; EPERM means it does. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A harness process group an apply started: a later apply must not act while it still runs. */
export interface ChildGroup {
  pgid: number;
  /** epoch ms after which the apply that started it would have killed it (its harness timeout) */
  deadline: number;
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is already gone
  }
}

export function groupAlive(pgid: number): boolean {
  return alive(-pgid);
}

/** Polls until no process of the group is left; false when `ms` pass (or `signal` aborts) first. */
export function groupGone(pgid: number, ms: number, signal?: AbortSignal): Promise<boolean> {
  return pollUntil(() => !groupAlive(pgid), ms, signal);
}

/** SIGTERM to every process of the group, SIGKILL to whatever ignores it for the grace period. */
export async function stopGroup(pgid: number): Promise<void> {
  killGroup(pgid, "SIGTERM");
  if (await groupGone(pgid, TERM_GRACE_MS)) return;
  killGroup(pgid, "SIGKILL");
  await groupGone(pgid, 1000);
}
