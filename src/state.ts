// .ao-state/ beside fleet.toml: the apply lock, the journal, the inventory of the last applied
// fleet and the ids of applied plans. Small files, each written atomically.
import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import type { InventoryEntry } from "../reconcile/model.js";
import { UserError } from "./problems.js";

export function stateDir(fleetPath: string): string {
  return join(dirname(fleetPath), ".ao-state");
}

export function writeAtomic(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

function readJson<T>(file: string, fallback: T): T {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch {
    return fallback;
  }
}

export function readInventory(dir: string): InventoryEntry[] {
  return readJson<InventoryEntry[]>(join(dir, "inventory.json"), []);
}

export function writeInventory(dir: string, entries: InventoryEntry[]): void {
  writeAtomic(join(dir, "inventory.json"), JSON.stringify(entries, null, 2) + "\n");
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
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, "applied-plans"), `${id}\n`);
}

export interface JournalLine {
  time: string;
  plan: string;
  project: string;
  action: string;
  event: "start" | "end";
  outcome?: "ok" | "failed" | "skipped";
  ms?: number;
  error?: string;
}

export function journal(dir: string, line: Omit<JournalLine, "time">): void {
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, "journal.jsonl"), JSON.stringify({ time: new Date().toISOString(), ...line }) + "\n");
}

export function readJournal(dir: string): JournalLine[] {
  try {
    return readFileSync(join(dir, "journal.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as JournalLine);
  } catch {
    return [];
  }
}

interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function tryLock(file: string): LockInfo | undefined {
  const me: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  try {
    writeFileSync(file, JSON.stringify(me), { flag: "wx" });
    return undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return readJson<LockInfo>(file, { pid: 0, host: "?", started: "?" });
  }
}

export interface Lock {
  release(): void;
  /** set when a stale lock was taken over */
  tookOver?: LockInfo;
}

/** Takes the apply lock, waiting up to timeoutMs; a lock whose process is dead (on this host) is taken over. */
export async function acquireLock(dir: string, timeoutMs: number): Promise<Lock> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "apply.lock");
  const deadline = Date.now() + timeoutMs;
  let tookOver: LockInfo | undefined;
  for (;;) {
    const holder = tryLock(file);
    if (!holder) return { release: () => rmSync(file, { force: true }), ...(tookOver ? { tookOver } : {}) };
    if (holder.host === hostname() && !alive(holder.pid)) {
      rmSync(file, { force: true });
      tookOver = holder;
      continue;
    }
    if (Date.now() >= deadline)
      throw new UserError(
        `another apply holds the lock ${file} (pid ${holder.pid} on ${holder.host}, since ${holder.started}); wait for it, or pass --lock-timeout SECONDS`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}
