// .ao-state/ beside fleet.toml: the apply lock, the journal, the inventory of the last applied
// fleet and the ids of applied plans. Small files, each written atomically.
import { existsSync, linkSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { hostname, uptime } from "node:os";
import { dirname, join } from "node:path";
import type { InventoryEntry } from "../../reconcile/model.js";
import { UserError } from "../common/problems.js";
import { redactDeep, redactUrl } from "../common/redact.js";
import { alive, type ChildGroup } from "../adapters/process-group.js";
import { appendPrivate, createPrivate, refuseLinks, replacePrivate, writePrivate, type Replaced } from "./private.js";

export function stateDir(fleetPath: string): string {
  return join(dirname(fleetPath), ".ao-state");
}

export function readJson<T>(file: string, fallback: T): T {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch {
    return fallback;
  }
}

export function readInventory(dir: string): InventoryEntry[] {
  return readJson<InventoryEntry[]>(join(dir, "inventory.json"), []);
}

// removed projects are only stopped: their harness url is never used again, so it keeps no secret
const inventoryText = (entries: InventoryEntry[]) => JSON.stringify(redactDeep(entries), null, 2) + "\n";

export function writeInventory(dir: string, entries: InventoryEntry[]): void {
  writePrivate(join(dir, "inventory.json"), inventoryText(entries));
}

/** Writes the inventory so that it can be put back byte for byte (po forget, before fleet.toml). */
export function replaceInventory(dir: string, entries: InventoryEntry[]): Replaced {
  return replacePrivate(join(dir, "inventory.json"), inventoryText(entries));
}

export function appliedPlans(dir: string): Set<string> {
  try {
    return new Set(readFileSync(join(dir, "applied-plans"), "utf8").split("\n").filter(Boolean));
  } catch {
    return new Set();
  }
}

/** Recorded before the first action runs, so that even an interrupted apply cannot be replayed. */
export function recordApplied(dir: string, id: string): void {
  appendPrivate(join(dir, "applied-plans"), `${id}\n`);
}

/**
 * One line of journal.jsonl. Per action: "start" and "end" (with outcome, ms, error). Per apply:
 * "apply-start" before its first action and "apply-end" after its last, so that an apply that
 * has a start and no end was killed.
 */
export interface JournalLine {
  time: string;
  plan: string;
  /** "interrupted": on a host, the apply's caller said Ctrl-C, or went away */
  event: "start" | "end" | "apply-start" | "apply-end" | "edit" | "create" | "gate" | "revert" | "held" | "interrupted";
  project?: string;
  /** the host the action ran on (its po's own journal there has the details); absent: this machine */
  host?: string;
  action?: string;
  outcome?: "ok" | "failed" | "skipped" | ApplyOutcome;
  ms?: number;
  error?: string;
  /** apply-start: the apply's process and its number of actions, and the verb that ran it */
  pid?: number;
  actions?: number;
  /** apply-end: how many actions ended which way */
  ok?: number;
  failed?: number;
  skipped?: number;
  /** apply-start: the verb that ran it (apply, restart); edit: the verb that edited fleet.toml */
  verb?: string;
  /** edit: each key it changed with the old and new values */
  changes?: { project: string; key: string; old?: unknown; new?: unknown }[];
  /** pin (action end, revert): the wanted ref, the commits from and to, the tag that named `from` */
  ref?: string;
  from?: string;
  to?: string;
  fromRef?: string;
  /** revert: the step (stop, pin, start, health) */
  step?: string;
}

export type ApplyOutcome = "converged" | "not converged" | "interrupted";

export function journal(dir: string, line: Omit<JournalLine, "time">): void {
  const text = redactUrl(JSON.stringify({ time: new Date().toISOString(), ...line }));
  appendPrivate(join(dir, "journal.jsonl"), `${text}\n`);
}

/** The journal's lines; a line that does not parse (a crash mid-write) is skipped, not fatal. */
export function readJournal(dir: string): JournalLine[] {
  let text: string;
  try {
    text = readFileSync(join(dir, "journal.jsonl"), "utf8");
  } catch {
    return [];
  }
  return text.split("\n").flatMap((l) => {
    try {
      return l ? [JSON.parse(l) as JournalLine] : [];
    } catch {
      return [];
    }
  });
}

export interface LockInfo {
  pid: number;
  host: string;
  started: string;
  children?: ChildGroup[];
}

/**
 * Whether `pid` started after `since` (Linux /proc; elsewhere unknown, false): then it is not the
 * process that took a lock at `since` but a later one that got the same pid.
 */
function startedAfter(pid: number, since: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22, starttime, in clock ticks (100 a second on Linux) since boot; fields count from after "(comm)".
    const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    const startMs = Date.now() - uptime() * 1000 + ticks * 10;
    return Number.isFinite(startMs) && startMs > Date.parse(since) + 2000;
  } catch {
    return false;
  }
}

/** The lock's process is gone, or its pid now belongs to a process started after the lock was taken. */
function holderDead(holder: LockInfo): boolean {
  return !alive(holder.pid) || startedAfter(holder.pid, holder.started);
}

function lockFile(dir: string, name = "apply.lock"): string {
  return join(dir, name);
}

/**
 * Creates the lock file with its content in one step (write a private file, then link it into
 * place, which fails if the lock exists), so no reader ever sees an empty lock. Returns the holder
 * when the lock is taken.
 */
function tryLock(file: string, me: LockInfo): LockInfo | undefined {
  const mine = `${file}.${process.pid}.new`;
  rmSync(mine, { force: true }); // left by a killed process that had our pid
  createPrivate(mine, JSON.stringify(me));
  try {
    linkSync(mine, file);
    return undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return readJson<LockInfo>(file, { pid: 0, host: "?", started: "?" });
  } finally {
    rmSync(mine, { force: true });
  }
}

const sameHolder = (a: LockInfo, b: LockInfo) => a.pid === b.pid && a.host === b.host && a.started === b.started;

/**
 * Removes the stale lock of `dead`, unless another apply replaced it meanwhile: the lock is moved
 * aside (an atomic step only one process can win) and put back if it turns out to be someone else's.
 */
function removeStale(file: string, dead: LockInfo): void {
  const aside = `${file}.${process.pid}.stale`;
  try {
    renameSync(file, aside);
  } catch {
    return; // another apply removed it first
  }
  const moved = readJson<LockInfo>(aside, { pid: 0, host: "?", started: "?" });
  if (!sameHolder(moved, dead)) {
    try {
      linkSync(aside, file);
    } catch {
      // a third apply took the free lock in this instant; it holds it now
    }
  }
  rmSync(aside, { force: true });
}

/**
 * The private files of processes killed mid-write (FILE.PID.new, .tmp, .stale, .old): only process PID
 * writes them and nobody reads them, so once PID is dead they are only in the way.
 */
function removeLitter(dir: string): void {
  for (const f of readdirSync(dir)) {
    const pid = /\.(\d+)\.(?:new|tmp|stale|old)$/.exec(f)?.[1];
    if (pid && !alive(Number(pid))) rmSync(join(dir, f), { force: true });
  }
}

export interface Lock {
  release(): void;
  /** records in the lock a harness process group this apply started (running) or saw end (not running) */
  track(child: ChildGroup, running: boolean): void;
  /** set when a stale lock was taken over */
  tookOver?: LockInfo;
}

function held(file: string, me: LockInfo, tookOver: LockInfo | undefined): Lock {
  let children: ChildGroup[] = [];
  return {
    release() {
      // Only our own lock: never remove one another apply holds.
      if (sameHolder(readJson<LockInfo>(file, { pid: 0, host: "?", started: "?" }), me)) rmSync(file, { force: true });
    },
    track(child, running) {
      children = running ? [...children, child] : children.filter((c) => c.pgid !== child.pgid);
      writePrivate(file, JSON.stringify({ ...me, children }));
    },
    ...(tookOver ? { tookOver } : {}),
  };
}

function lockedMessage(file: string, holder: LockInfo): string {
  if (!holder.pid)
    return (
      `the apply lock ${file} cannot be read, so its holder is unknown; if no po apply is ` +
      `running, remove it and apply again`
    );
  return (
    `another apply holds the lock ${file} (pid ${holder.pid} on ${holder.host}, since ` +
    `${holder.started}); wait for it to finish, or pass --lock-timeout SECONDS to wait`
  );
}

/**
 * Takes the apply lock (or the lock `name`), waiting up to timeoutMs (telling `waiting` once when it
 * starts to wait); a lock whose process is dead (on this host) is taken over.
 */
export async function acquireLock(
  dir: string,
  timeoutMs: number,
  name?: string,
  waiting?: (holder: LockInfo) => void,
): Promise<Lock> {
  // before anything is acted on: nothing in the state folder may lead outside it
  refuseLinks(dir);
  const file = lockFile(dir, name);
  const deadline = Date.now() + timeoutMs;
  const me: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  let tookOver: LockInfo | undefined;
  let told = false;
  for (;;) {
    const holder = tryLock(file, me);
    if (!holder) {
      removeLitter(dir);
      return held(file, me, tookOver);
    }
    if (!holder.pid && !existsSync(file)) continue; // released between our two looks
    if (holder.pid && holder.host === hostname() && holderDead(holder)) {
      removeStale(file, holder);
      tookOver = holder;
      continue;
    }
    if (Date.now() >= deadline) throw new UserError(lockedMessage(file, holder));
    if (!told) waiting?.(holder);
    told = true;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The apply holding the lock now, if its process is alive (or on another host); for po status. */
export function lockHolder(dir: string): LockInfo | undefined {
  const holder = readJson<LockInfo | undefined>(lockFile(dir), undefined);
  if (!holder) return undefined;
  return holder.host !== hostname() || !holderDead(holder) ? holder : undefined;
}
