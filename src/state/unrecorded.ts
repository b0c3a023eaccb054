// The state writes of an apply that failed once actions could run (a full disk), here or on a host:
// each told in one line saying what was done and what could not be recorded where.
import { UserError } from "../common/problems.js";
import { StateWriteError } from "./private.js";
import { journal, type JournalLine, type Lock } from "./state.js";
import type { ChildGroup } from "../adapters/process-group.js";
import { writeHarnessLog } from "./harness-log.js";

/**
 * The failed state writes of one apply. The first one starts no new action (running ones finish),
 * as an interruption would: po does not act where it cannot record what it did.
 */
export interface Unrecorded {
  lines: string[];
  /** aborted at the first failure */
  signal: AbortSignal;
  /** runs `write`; a failed state write is told by `said(where and why)` (undefined: not worth a line) */
  keep(write: () => void, said: (where: string) => string | undefined): void;
  /** a line told by someone else (a host's apply), kept with ours */
  tell(line: string): void;
  /** a journal line of `state`, kept (see keep) */
  journal(state: string, entry: Omit<JournalLine, "time">): void;
}

/** `told` hears each new line as it comes (a host's po streams them to its caller). */
export function unrecorded(told: (line: string) => void = () => {}): Unrecorded {
  const stop = new AbortController();
  const lines: string[] = [];
  const tell = (line: string) => {
    if (lines.includes(line)) return;
    lines.push(line);
    told(line);
  };
  const keep: Unrecorded["keep"] = (write, said) => {
    try {
      write();
    } catch (e) {
      if (!(e instanceof StateWriteError)) throw e;
      const line = said(`${e.file}: ${e.why}`);
      if (line) tell(line);
      stop.abort("po could not record the apply's state");
    }
  };
  return {
    lines,
    signal: stop.signal,
    keep,
    tell,
    journal: (state, entry) =>
      keep(
        () => journal(state, entry),
        (where) => untold(entry, where),
      ),
  };
}

const APPLY_EVENT: Partial<Record<JournalLine["event"], string>> = {
  "apply-start": "start",
  "apply-end": "end",
  interrupted: "interruption",
};

/** What a journal line that could not be written leaves untold; a skip needs no line of its own. */
function untold(e: Omit<JournalLine, "time">, where: string): string | undefined {
  const what = `${e.project}${e.host ? ` (on ${e.host})` : ""}: ${e.action}`;
  if (e.event === "start")
    return `${what} ${e.host ? "started" : "not run"}, as its start could not be recorded in ${where}`;
  if (e.event === "end")
    return e.outcome === "skipped" ? undefined : `${what} ${e.outcome}, but it could not be recorded in ${where}`;
  const event = APPLY_EVENT[e.event] ?? e.event;
  return `the apply's ${event}${e.outcome ? ` (${e.outcome})` : ""} could not be recorded in ${where}`;
}

/**
 * What an apply's harness runs write, kept (see keep): the process groups tracked in `lock`, and
 * each harness output in `state`'s harness logs, headed by `run` ("apply PLANID").
 */
export function keptHarness(lost: Unrecorded, lock: Lock, state: string, run: string) {
  return {
    track: (c: ChildGroup, on: boolean) =>
      lost.keep(
        () => lock.track(c, on),
        (where) =>
          `${on ? "" : "the end of "}harness process group ${c.pgid} could not be recorded in the lock ${where}`,
      ),
    record: (project: string, verb: "up" | "down", text: string, how: string) =>
      lost.keep(
        () => writeHarnessLog(state, project, verb, text, `# ${run}: harness ${verb}, ${how}`),
        (where) => `${project}: what harness ${verb} printed could not be kept in ${where}`,
      ),
  };
}

/** A state write before any action runs: when it fails, its one line says that nothing was run. */
export function beforeActing(write: () => void): void {
  try {
    write();
  } catch (e) {
    throw e instanceof StateWriteError ? new UserError(`${e.message}; no action was run`) : e;
  }
}
