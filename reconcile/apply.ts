// The executor: runs a plan's actions through a port. It decides order, concurrency, skipping and
// interruption; every effect on the world (git, tmux, the harness) is the port's.

import { mapLimit } from "./limit.js";
import type { Action } from "./model.js";

export interface ApplyPorts {
  /** Perform one action; throw (an Error, whose message is reported) when it fails. */
  run(action: Action, signal: AbortSignal): Promise<void>;
  /**
   * Plan a project again right after it was cloned, when its submodule and agents can be observed.
   * Throw when it cannot be planned (e.g. the clone has no submodule): the clone is then reported
   * failed with that message and the rest of the project is skipped.
   */
  replan?(project: string): Promise<Action[]>;
}

export interface ActionResult {
  action: Action;
  outcome: "ok" | "failed" | "skipped";
  error?: string;
  ms: number;
  /** clone: the actions planned again for the cloned project, which run next */
  then?: string[];
}

export interface ApplyOptions {
  parallelism: number;
  signal?: AbortSignal;
  onStart?(a: Action): void;
  onEnd?(r: ActionResult): void;
  /** the clock an action's `ms` is read on (performance.now); a test gives its own, so durations are exact */
  now?(): number;
}

/**
 * Run the actions: projects in parallel (at most `parallelism` at once), each project's actions in
 * order. Results come back grouped by project in plan order; onEnd reports them as they happen.
 */
export async function applyPlan(actions: Action[], ports: ApplyPorts, opts: ApplyOptions): Promise<ActionResult[]> {
  const groups = groupByProject(actions);
  const limit = Math.max(1, Math.floor(opts.parallelism) || 1);
  const results = await mapLimit(groups, limit, (group) => applyProject(group, ports, opts));
  return results.flat();
}

async function applyProject(queue: Action[], ports: ApplyPorts, opts: ApplyOptions): Promise<ActionResult[]> {
  const signal = opts.signal ?? new AbortController().signal;
  const out: ActionResult[] = [];
  let pending = [...queue];
  let skipWhy: string | undefined;
  for (let action = pending.shift(); action; action = pending.shift()) {
    // An interruption lets running actions finish but starts nothing new.
    const why = skipWhy ?? (signal.aborted ? skipped(signal) : undefined);
    if (why !== undefined) {
      out.push(report(opts, { action, outcome: "skipped", error: why, ms: 0 }));
      continue;
    }
    const { result, rest } = await runStep(action, pending, ports, signal, opts);
    out.push(report(opts, result));
    pending = rest;
    // The later actions of a project assume the earlier ones took effect.
    if (result.outcome === "failed") skipWhy = `skipped: an earlier action of ${action.project} failed`;
  }
  return out;
}

/** Run one action; after a successful clone, the project's remaining actions are re-planned. */
async function runStep(
  action: Action,
  rest: Action[],
  ports: ApplyPorts,
  signal: AbortSignal,
  opts: ApplyOptions,
): Promise<{ result: ActionResult; rest: Action[] }> {
  opts.onStart?.(action);
  const now = opts.now ?? (() => performance.now());
  const t0 = now();
  const done = (outcome: ActionResult["outcome"], error?: string): ActionResult =>
    error === undefined ? { action, outcome, ms: now() - t0 } : { action, outcome, error, ms: now() - t0 };
  // onStart may have stopped the apply (its start could not be journaled): then it does not run
  if (signal.aborted) return { result: done("skipped", skipped(signal)), rest };
  try {
    await ports.run(action, signal);
  } catch (e) {
    return { result: done("failed", messageOf(e)), rest };
  }
  if (action.kind !== "clone" || !ports.replan) return { result: done("ok"), rest };
  try {
    const fresh = await ports.replan(action.project);
    // Only this project's follow-ups; a second clone would fail on the now existing location.
    const next = fresh.filter((a) => a.project === action.project && a.kind !== "clone");
    return { result: { ...done("ok"), then: next.map(describeFollowUp) }, rest: next };
  } catch (e) {
    return { result: done("failed", `cloned, but planning it again failed: ${messageOf(e)}`), rest };
  }
}

function describeFollowUp(a: Action): string {
  return a.session !== undefined ? `stop orphan session ${a.session}` : a.kind;
}

function report(opts: ApplyOptions, r: ActionResult): ActionResult {
  opts.onEnd?.(r);
  return r;
}

/** Actions grouped by project, projects in order of first appearance, actions in their order. */
function groupByProject(actions: Action[]): Action[][] {
  const groups = new Map<string, Action[]>();
  for (const a of actions) {
    const g = groups.get(a.project);
    if (g) g.push(a);
    else groups.set(a.project, [a]);
  }
  return [...groups.values()];
}

/** Why an aborted signal skips an action: its reason when it gives one, else an interruption. */
function skipped(signal: AbortSignal): string {
  return `skipped: ${typeof signal.reason === "string" ? signal.reason : "interrupted"}`;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
