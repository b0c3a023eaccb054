// The protocol between po here and po on another host (docs/hosts.md): one JSON request line on
// the remote po's stdin, JSON back on its stdout. Versioned, so that a po too old or too new for
// this one says so in one line instead of misreading what it gets.
import { createRequire } from "node:module";
import type { ActionResult } from "../../reconcile/apply.js";
import type { Action, ActualProject, DesiredProject, HarnessSpec, InventoryEntry } from "../../reconcile/model.js";
import type { LockInfo } from "../state/state.js";
import type { ProjectAgents } from "../observe/agent-state.js";
import { UserError } from "../common/problems.js";

export const PROTOCOL = 1;

/** The first line of the remote po's stdin. */
export interface Request {
  protocol: number;
  projects: DesiredProject[];
  /** projects of this host that left fleet.toml (the inventory's entries) */
  removed: InventoryEntry[];
  offline: boolean;
  /** apply: the plan's id, this host's actions and how many projects at once */
  plan?: string;
  actions?: Action[];
  parallelism?: number;
  /** apply: how long to wait for this host's apply lock (the caller's --lock-timeout) */
  lockTimeoutMs?: number;
  /** apply: the actions are po restart's, checked as the restart of those projects rather than against the plan */
  restart?: boolean;
  /**
   * observe for po status: each project's agents too; `harness: false` is --no-harness (the harness
   * `status` argv is not run there either). Absent: no agents (plan, outdated, completion).
   */
  agents?: { harness: boolean };
}

/**
 * Later lines of an apply's stdin: Ctrl-C once (soft) or twice (hard) on the operator's side; a
 * soft one also when the caller could not record its own apply's state (`reason` says so).
 */
export interface Interrupt {
  interrupt: "soft" | "hard";
  /** why nothing new may start, when it is not Ctrl-C: the reason of the host's skipped actions */
  reason?: string;
}

export interface ObserveReply {
  protocol: number;
  po: string;
  actual: ActualProject[];
  removed: ActualProject[];
  /** project → the tag naming the commit it pins, from the host's mirror of its harness (absent: older po) */
  tags?: Record<string, string>;
  /** project → its agents as po status shows them, when the request asked (absent: not asked, or an older po) */
  agents?: Record<string, ProjectAgents>;
}

/** `validate` (po validate --deep): what is wrong with each project the host was asked about. */
export interface ValidateReply {
  protocol: number;
  po: string;
  problems: { project: string; message: string }[];
}

/** What po logs prints of a project's agents: their screens, or the harness's last output. */
export interface LogsOptions {
  lines: number;
  follow: boolean;
  harness: boolean;
  json: boolean;
}

/** What logs and attach need of a project: its place and session names, never its harness url or argv. */
export type SessionProject = Pick<DesiredProject, "name" | "location"> & { harness: Pick<HarnessSpec, "session"> };

/**
 * `logs` and `attach`: one project's agent, at the operator's terminal. The remote po's stdin is that
 * terminal (or, without one, a pipe held open until the caller ends), so this request is an argv word,
 * which anyone on the host may read in its process list: hence only a SessionProject.
 */
export interface SessionRequest {
  protocol: number;
  project: SessionProject;
  agent?: string;
  logs?: LogsOptions;
}

/** One line of an apply's stdout. */
export type ApplyEvent =
  | { event: "locked"; protocol: number; po: string }
  | { event: "start"; action: Action }
  | { event: "end"; result: ActionResult }
  /** a state write on the host that failed once actions could run: what was done and not recorded */
  | { event: "unrecorded"; line: string }
  | { event: "done" };

export interface InfoReply {
  protocol: number;
  po: string;
  tmux: string;
  /** the apply holding this host's lock, if any */
  lock: LockInfo | null;
  state: string;
}

export function poVersion(): string {
  return (createRequire(import.meta.url)("../../../package.json") as { version: string }).version;
}

/** Where po keeps its own state on a host (the apply lock and journal of the applies it ran there). */
export { hostStateDir } from "../state/private.js";

/** Refuses a protocol other than this po's, naming both. */
export function checkProtocol(asked: number, side: string): void {
  if (asked === PROTOCOL) return;
  throw new UserError(
    `${side} protocol ${asked} was asked, but this po (${poVersion()}) speaks protocol ${PROTOCOL}; ` +
      `install the same po on both machines`,
  );
}
