// po apply: execute the plan (fresh, or a saved one), one apply at a time, journaled, then check
// that the fleet converged.
import { resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import type { ActionResult } from "../reconcile/apply.js";
import { applyPlan } from "../reconcile/apply.js";
import type { InventoryEntry } from "../reconcile/model.js";
import { many, parseVerb, positiveInt, COMMON_HELP } from "./args.js";
import { effects } from "./effects.js";
import { makePlan, type Planned } from "./make-plan.js";
import { paint, printJson, useColor } from "./output.js";
import { observedChanges, readPlanFile, type SavedPlan } from "./plan-file.js";
import { UserError } from "./problems.js";
import { renderPlan, summaryLine } from "./render.js";
import { acquireLock, appliedPlans, journal, readInventory, recordApplied, stateDir, writeInventory } from "./state.js";

export const summary = "execute the plan: converge the fleet to fleet.toml";
const help = `Usage: po apply [PLANFILE] [--target NAME]… [--yes] [--parallelism N] [--lock-timeout S] [--offline] [--json]

Plans (or reads the saved PLANFILE from po plan --out), then executes only those actions:
projects in parallel, actions in order within a project; a failed action skips the rest of its
project while the others go on. Afterwards the fleet is observed again and po says whether it
converged. Asks for confirmation on a terminal; without one, --yes is required (a saved plan
needs none). A saved plan is refused when the world changed since it was made, or when it was
already applied. One apply runs at a time (.ao-state/apply.lock).

Options:
  --target NAME      apply only this project (repeatable)
  --yes, -y          do not ask for confirmation
  --parallelism N    projects worked on at once (default 4)
  --lock-timeout S   wait up to S seconds for another apply to finish (default 0)
  --offline          resolve refs from local repositories only
${COMMON_HELP}
Exit codes: 0 converged, 1 an action failed or the fleet did not converge, 130 interrupted.`;

async function confirm(): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question("\nDo you want to perform these actions? Only 'yes' will be accepted: ");
    return answer.trim() === "yes";
  } finally {
    rl.close();
  }
}

function checkSaved(saved: SavedPlan, fresh: SavedPlan, applied: Set<string>, file: string): void {
  if (applied.has(saved.id)) throw new UserError(`saved plan ${file} (${saved.id}) was already applied; a plan is applied once. Run po plan again`);
  if (saved.fleet.sha256 !== fresh.fleet.sha256) throw new UserError(`Saved plan is stale: ${saved.fleet.path} changed since it was made; run po plan again`);
  if (saved.fingerprint !== fresh.fingerprint) {
    const what = observedChanges(saved.observed ?? {}, fresh.observed).slice(0, 5).join("; ") || "the observed state differs";
    throw new UserError(`Saved plan is stale: ${what}; run po plan again`);
  }
}

function nextInventory(planned: Planned, results: ActionResult[], previous: InventoryEntry[]): InventoryEntry[] {
  const current = planned.fleet.projects.map((p) => ({ name: p.name, location: p.location, harness: p.harness }));
  const names = new Set(current.map((e) => e.name));
  // A removed project stays known until a stop of it succeeded, or nothing of it was live.
  const stillRunning = new Set(results.filter((r) => r.action.removed && r.outcome !== "ok").map((r) => r.action.project));
  const removedNames = new Set(planned.removed.map((e) => e.name));
  const kept = previous.filter((e) => !names.has(e.name) && (stillRunning.has(e.name) || !removedNames.has(e.name)));
  return [...current, ...kept];
}

function line(r: ActionResult, color: boolean): string {
  const mark = r.outcome === "ok" ? paint("ok", "green", color) : r.outcome === "failed" ? paint("FAILED", "red", color) : paint("skipped", "yellow", color);
  return `${r.action.project}: ${r.action.kind} ${mark} (${(r.ms / 1000).toFixed(1)}s)${r.error && r.outcome === "failed" ? `: ${r.error}` : ""}`;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseVerb("apply", argv, { target: { type: "string", multiple: true }, yes: { type: "boolean", short: "y" }, parallelism: { type: "string" }, "lock-timeout": { type: "string" }, offline: { type: "boolean" } }, help);
  if (!args) return 0;
  const parallelism = positiveInt("apply", "parallelism", args.values.parallelism, 4);
  const lockTimeout = args.values["lock-timeout"] === undefined ? 0 : positiveInt("apply", "lock-timeout", args.values["lock-timeout"], 0);
  const file = args.positionals[0];
  if (args.positionals.length > 1) throw new UserError("apply takes at most one saved plan file; see po apply --help");
  const saved = file ? readPlanFile(file) : undefined;
  const targets = saved ? saved.targets : many(args.values.target);
  if (saved && many(args.values.target).length) throw new UserError("apply: --target cannot be combined with a saved plan (its targets are in the plan)");
  const fleetFile = saved ? saved.fleet.path : args.values.fleet;
  const lock = await acquireLock(stateDir(resolve(fleetFile)), lockTimeout * 1000);
  try {
    if (lock.tookOver) process.stderr.write(`po: warning: took over a stale apply lock of pid ${lock.tookOver.pid} (started ${lock.tookOver.started}), whose process is gone\n`);
    return await locked(args.values.json, Boolean(args.values.yes), parallelism, Boolean(args.values.offline), fleetFile, targets, saved, file);
  } finally {
    lock.release();
  }
}

async function locked(json: boolean, yes: boolean, parallelism: number, offline: boolean, fleetFile: string, targets: string[], saved: SavedPlan | undefined, file?: string): Promise<number> {
  const color = useColor();
  const planned = await makePlan({ fleetFile, targets, offline });
  if (saved) checkSaved(saved, planned.plan, appliedPlans(planned.state), file!);
  const plan = saved ?? planned.plan;
  const harnessOf = (name: string) => planned.fleet.projects.find((p) => p.name === name)?.harness.name ?? "";
  if (!json) process.stdout.write(`${renderPlan(plan, harnessOf, color)}${plan.actions.length || plan.errors.length ? "\n\n" : ""}${summaryLine(plan)}\n`);
  if (!plan.actions.length) {
    if (json) printJson({ plan, results: [], converged: plan.errors.length === 0 });
    return plan.errors.length ? 1 : 0;
  }
  if (!saved && !yes) {
    if (!process.stdin.isTTY) throw new UserError("apply: refusing to change the fleet without confirmation: no terminal; pass --yes, or apply a saved plan (po plan --out FILE)");
    if (!(await confirm())) {
      process.stdout.write("Apply cancelled; nothing was changed.\n");
      return 1;
    }
  }
  recordApplied(planned.state, plan.id);
  const interrupt = new AbortController();
  const onSigint = () => {
    if (!json) process.stderr.write("\npo: interrupted: finishing the running actions, starting no new ones…\n");
    interrupt.abort();
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);
  let results: ActionResult[];
  try {
    results = await applyPlan(plan.actions, effects(planned.fleet.projects, planned.removed, offline), {
      parallelism,
      signal: interrupt.signal,
      onStart: (a) => journal(planned.state, { plan: plan.id, project: a.project, action: a.kind, event: "start" }),
      onEnd: (r) => {
        journal(planned.state, { plan: plan.id, project: r.action.project, action: r.action.kind, event: "end", outcome: r.outcome, ms: Math.round(r.ms), ...(r.error ? { error: r.error } : {}) });
        if (!json) process.stdout.write(line(r, color) + "\n");
      },
    });
  } finally {
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigint);
  }
  writeInventory(planned.state, nextInventory(planned, results, readInventory(planned.state)));
  const after = await makePlan({ fleetFile, targets, offline });
  const failed = results.filter((r) => r.outcome === "failed").length;
  const skipped = results.filter((r) => r.outcome === "skipped").length;
  const ok = results.length - failed - skipped;
  const converged = after.plan.actions.length === 0 && after.plan.errors.length === 0;
  if (json) printJson({ plan, results, converged, remaining: after.plan.actions, errors: after.plan.errors });
  else {
    process.stdout.write(`\nApply ${interrupt.signal.aborted ? "interrupted" : "complete"}: ${ok} succeeded, ${failed} failed, ${skipped} skipped.\n`);
    process.stdout.write(converged ? paint("The fleet converged: a new plan has no changes.\n", "green", color) : `The fleet has not converged: ${summaryLine(after.plan)} Run po plan to see why.\n`);
  }
  if (interrupt.signal.aborted) return 130;
  return failed || !converged || plan.errors.length ? 1 : 0;
}
