// What po apply (and po restart) tells the operator: the options they share, one line per action,
// JSON documents or a stream of lines, and the closing report of whether the fleet converged.
import { dirname } from "node:path";
import type { ActionResult } from "../../reconcile/apply.js";
import type { Planned } from "./make-plan.js";
import { makePlan } from "./make-plan.js";
import { paint, printJson, useColor } from "./output.js";
import { summaryLine } from "./render.js";
import type { SavedPlan } from "../state/plan-file.js";
import type { RolloutReport } from "../act/rollout.js";
import { rolloutJson, rolloutText } from "./apply-rollout.js";
import { notify, type NotifyEvent } from "../common/notify.js";
import { journal, type ApplyOutcome, type JournalLine } from "../state/state.js";
import type { Unrecorded } from "../state/unrecorded.js";

export interface Options {
  /** the verb the operator ran: its word is in the summary and the journal */
  verb: "apply" | "restart";
  json: boolean;
  /** --json-stream: one JSON line per event instead of one document at the end */
  stream: boolean;
  yes: boolean;
  parallelism: number;
  /** other hosts worked on at once */
  hostsParallelism: number;
  offline: boolean;
  fleetFile: string;
  targets: string[];
  exclude: string[];
  lockTimeoutMs: number;
  saved?: SavedPlan;
  file?: string;
  /** replaces the fresh plan (po restart makes its own actions) */
  rewrite?(planned: Planned): SavedPlan;
  /** the parsed options, for the rollout policy (--wave, --settle, …) */
  values: Record<string, unknown>;
  /** show the plan and stop: nothing is run or recorded */
  dryRun?: boolean;
  /** the operator already agreed to this change (po start/stop/update): ask only at a canary wave */
  agreed?: boolean;
  /** once actions may run: the state writes that failed */
  unrecorded?: Unrecorded;
}

/** The options of an apply once it acts. */
export type Acting = Options & { unrecorded: Unrecorded };

export const word = (opts: Options) => (opts.verb === "restart" ? "Restart" : "Apply");

/** The outcome as JSON: one document, or with --json-stream the last line. */
export function result(opts: Options, value: Record<string, unknown>): void {
  if (opts.stream) process.stdout.write(`${JSON.stringify({ event: "result", ...value })}\n`);
  else printJson(value);
}

/** A journal line, also printed as it happens with --json-stream. */
export function note(opts: Options, state: string, entry: Omit<JournalLine, "time">): void {
  if (opts.unrecorded) opts.unrecorded.journal(state, entry);
  else journal(state, entry);
  if (opts.stream) process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
}

export function line(r: ActionResult, color: boolean): string {
  const mark =
    r.outcome === "ok"
      ? paint("ok", "green", color)
      : r.outcome === "failed"
        ? paint("FAILED", "red", color)
        : paint("skipped", "yellow", color);
  const what = r.action.session !== undefined ? `stop orphan session ${r.action.session}` : r.action.kind;
  return (
    `${r.action.project}: ${what} ${mark} ` +
    `(${(r.ms / 1000).toFixed(1)}s)${r.error && r.outcome !== "ok" ? `: ${r.error.replace(/^skipped: /, "")}` : ""}` +
    (r.then ? `; planned again: ${r.then.length ? r.then.join(", ") : "nothing more to do"}` : "")
  );
}

/** Whether the whole fleet still has changes once the targets converged: the next step when it does. */
export async function rest(opts: Options): Promise<string> {
  const whole = await makePlan({ ...opts, targets: [], exclude: [] });
  if (!whole.plan.actions.length && !whole.plan.errors.length) return "";
  return ` The rest of the fleet still has changes (${summaryLine(whole.plan)}); po plan shows them.`;
}

/** Says whether the fleet (`after`, observed again) converged, journals the apply's outcome; the exit code. */
export async function report(
  opts: Options,
  after: Planned,
  planned: Planned,
  plan: SavedPlan,
  results: ActionResult[],
  interrupted: boolean,
  rolled?: RolloutReport,
): Promise<number> {
  const count = (o: ActionResult["outcome"]) => results.filter((r) => r.outcome === o).length;
  const [ok, failed, skipped] = [count("ok"), count("failed"), count("skipped")];
  const converged = after.plan.actions.length === 0 && after.plan.errors.length === 0;
  const outcome: ApplyOutcome = interrupted ? "interrupted" : converged ? "converged" : "not converged";
  note(opts, planned.state, { plan: plan.id, event: "apply-end", outcome, ok, failed, skipped });
  if (!interrupted) await tellNotify(planned, results, after);
  const remaining = { remaining: after.plan.actions, errors: after.plan.errors };
  const lost = opts.unrecorded?.lines ?? [];
  if (opts.json)
    result(opts, {
      ...{ plan, results, interrupted, converged, ...remaining, ...rolloutJson(rolled) },
      ...(lost.length ? { unrecorded: lost } : {}),
    });
  else {
    const color = useColor();
    const some = after.plan.targets.length > 0;
    const what = some ? `The targets (${after.plan.targets.join(", ")})` : "The fleet";
    process.stdout.write(
      `\n${word(opts)} ${interrupted ? "interrupted" : "complete"}: ${ok} succeeded, ${failed} failed, ` +
        `${skipped} skipped.\n`,
    );
    for (const r of results.filter((x) => x.outcome === "failed"))
      process.stderr.write(`po: ${r.action.project}: ${r.action.kind} failed: ${r.error}\n`);
    if (rolled) process.stdout.write(rolloutText(rolled));
    process.stdout.write(
      converged
        ? paint(`${what} converged: a new plan${some ? " of them" : ""} has no changes.`, "green", color) +
            (some ? await rest(opts) : "") +
            "\n"
        : `${what} ${some ? "have" : "has"} not converged: ${summaryLine(after.plan)} ` + `Run po plan to see why.\n`,
    );
  }
  for (const l of lost) process.stderr.write(`po: ${l}\n`);
  if (interrupted) return 130;
  return lost.length || failed || rolled?.failed.length || !converged || plan.errors.length ? 1 : 0;
}

/**
 * fleet.toml's notify, once per event: apply.failed for each project whose action failed,
 * apply.not_converged for each other project a new plan still has work or errors for. A notify
 * that fails is a warning: it never fails the apply.
 */
async function tellNotify(planned: Planned, results: ActionResult[], after: Planned): Promise<void> {
  const argv = planned.fleet.notify;
  if (!argv) return;
  const events: NotifyEvent[] = results
    .filter((r) => r.outcome === "failed")
    .map((r) => ({ event: "apply.failed", project: r.action.project, detail: `${r.action.kind}: ${r.error ?? ""}` }));
  const told = new Set(events.map((e) => e.project));
  const left = [...after.plan.actions, ...after.plan.errors].filter((x) => !told.has(x.project));
  for (const name of new Set(left.map((x) => x.project))) {
    const what = left.filter((x) => x.project === name).map((x) => ("kind" in x ? x.kind : x.message));
    events.push({ event: "apply.not_converged", project: name, detail: `a new plan still has: ${what.join("; ")}` });
  }
  const dir = dirname(planned.fleet.path);
  for (const e of events) {
    const problem = await notify(argv, e, dir);
    if (problem) process.stderr.write(`po: warning: ${problem} (${e.event} of ${e.project})\n`);
  }
}
