// po history: past applies (and restarts) from the journal, newest first; po history PLANID: one of them.
import { resolve } from "node:path";
import { parseVerb, wholeNumber, COMMON_HELP } from "./args.js";
import { columns, printJson } from "./output.js";
import { UserError } from "../common/problems.js";
import { lockHolder, readJournal, stateDir, type JournalLine } from "../state/state.js";

export const summary = "past applies from the journal, or one apply's actions";
const help = `Usage: po history [PLANID] [--limit N] [--json]

Lists past applies and restarts from the journal (.ao-state/journal.jsonl beside fleet.toml),
newest first: when each started, its plan id, the verb, what ran (project: action), the outcome
(converged, not converged, interrupted; killed when it never finished; running) and how long it
took. With PLANID (or the start of one), shows that apply's actions one by one with their outcome,
duration and error.

Options:
  --limit N      show the last N applies (default 20)
${COMMON_HELP}`;

export interface ActionEntry {
  project: string;
  /** the host it ran on; absent: this machine */
  host?: string;
  action: string;
  outcome: string;
  ms?: number;
  error?: string;
}

export interface ApplyEntry {
  plan: string;
  verb: string;
  started: string;
  ended?: string;
  /** converged, not converged, interrupted, running, or killed (no end was journaled) */
  outcome: string;
  ms?: number;
  actions: ActionEntry[];
}

/** The applies of the journal in order, each with its actions (an action that never ended is "unfinished"). */
export function applies(lines: JournalLine[], running: boolean): ApplyEntry[] {
  const byPlan = new Map<string, ApplyEntry>();
  for (const l of lines) {
    let e = byPlan.get(l.plan);
    if (!e) {
      e = { plan: l.plan, verb: l.verb ?? "apply", started: l.time, outcome: "killed", actions: [] };
      byPlan.set(l.plan, e);
    }
    if (l.event === "apply-start") [e.started, e.verb] = [l.time, l.verb ?? "apply"];
    if (l.event === "start")
      e.actions.push({
        project: l.project!,
        ...(l.host ? { host: l.host } : {}),
        action: l.action!,
        outcome: "unfinished",
      });
    const open = e.actions.find((a) => a.project === l.project && a.action === l.action && a.outcome === "unfinished");
    if (l.event === "end" && open) Object.assign(open, { outcome: l.outcome, ms: l.ms, error: l.error });
    if (l.event === "apply-end") {
      [e.ended, e.outcome] = [l.time, String(l.outcome)];
      e.ms = Date.parse(l.time) - Date.parse(e.started);
    }
  }
  const all = [...byPlan.values()];
  const last = all.at(-1);
  if (last && !last.ended && running) last.outcome = "running";
  return all;
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? "-" : `${(ms / 1000).toFixed(1)}s`;
}

/** A project on another host reads NAME@HOST, as in plan and status. */
const where = (a: ActionEntry) => (a.host ? `${a.project}@${a.host}` : a.project);

function ran(e: ApplyEntry): string {
  const text = e.actions.map((a) => `${where(a)}: ${a.action}`).join(", ");
  return text.length > 60 ? `${text.slice(0, 59)}…` : text || "-";
}

function showOne(e: ApplyEntry): void {
  process.stdout.write(
    `${e.verb} of plan ${e.plan}, started ${e.started}${e.ended ? `, ended ${e.ended}` : ""}: ` +
      `${e.outcome}${e.ms === undefined ? "" : ` in ${seconds(e.ms)}`}\n\n`,
  );
  const rows = e.actions.map((a) => [where(a), a.action, a.outcome, seconds(a.ms), a.error ?? ""]);
  process.stdout.write(
    rows.length ? `${columns([["PROJECT", "ACTION", "OUTCOME", "TIME", "ERROR"], ...rows])}\n` : "No actions.\n",
  );
}

export async function run(argv: string[]): Promise<number> {
  const args = parseVerb("history", argv, { limit: { type: "string" } }, help, 1);
  if (!args) return 0;
  const limit = wholeNumber("history", "limit", args.values.limit, 20);
  const state = stateDir(resolve(args.values.fleet));
  const all = applies(readJournal(state), lockHolder(state) !== undefined).reverse();
  const [id] = args.positionals;
  if (id !== undefined) {
    const found = all.filter((e) => e.plan.startsWith(id));
    if (found.length !== 1)
      throw new UserError(
        found.length
          ? `history: plan id '${id}' is ambiguous (${found.map((e) => e.plan.slice(0, 8)).join(", ")}); ` +
              `give more of it`
          : `history: no apply of plan '${id}' in ${state}/journal.jsonl; po history lists them`,
      );
    if (args.values.json) printJson(found[0]);
    else showOne(found[0]);
    return 0;
  }
  const shown = all.slice(0, limit);
  if (args.values.json) printJson(shown);
  else if (!shown.length) process.stdout.write(`No applies in ${state}/journal.jsonl yet.\n`);
  else {
    const rows = shown.map((e) => [e.started, e.plan.slice(0, 8), e.verb, ran(e), e.outcome, seconds(e.ms)]);
    process.stdout.write(`${columns([["STARTED", "PLAN", "VERB", "ACTIONS", "OUTCOME", "DURATION"], ...rows])}\n`);
  }
  return 0;
}
