// po apply: execute the plan (fresh, or a saved one), one apply at a time, journaled, then check
// that the fleet converged.
import { resolve } from "node:path";
import { confirm, interrupts, type Interrupt } from "./interrupt.js";
import type { ActionResult } from "../../reconcile/apply.js";
import { applyPlan } from "../../reconcile/apply.js";
import type { InventoryEntry } from "../../reconcile/model.js";
import { many, parseVerb, wholeNumber, COMMON_HELP } from "./args.js";
import { effects } from "../act/effects.js";
import { makePlan, type Planned } from "./make-plan.js";
import { paint, printJson, useColor } from "./output.js";
import { observedChanges, readPlanFile, type SavedPlan } from "../state/plan-file.js";
import { UserError } from "../common/problems.js";
import { planText, summaryLine } from "./render.js";
import { settleOrphans } from "../act/harness.js";
import {
  acquireLock,
  appliedPlans,
  journal,
  readInventory,
  recordApplied,
  stateDir,
  writeInventory,
  type ApplyOutcome,
  type Lock,
  type LockInfo,
} from "../state/state.js";

export const summary = "execute the plan: converge the fleet to fleet.toml";
const help =
  `Usage: po apply [PLANFILE] [--target NAME]… [--yes] [--parallelism N] [--lock-timeout ` +
  `S] [--offline] [--json]

Plans (or reads the saved PLANFILE from po plan --out), then executes only those actions:
projects in parallel, actions in order within a project; a failed action skips the rest of its
project while the others go on. Afterwards the fleet is observed again and po says whether it
converged. Asks for confirmation on a terminal; without one, --yes is required (a saved plan
needs none). A saved plan is refused when the world changed since it was made, or when it was
already applied. One apply runs at a time (.ao-state/apply.lock); the lock of an apply whose
process died is taken over, after what it left running has finished. Every action is journaled
as it starts and ends (.ao-state/journal.jsonl; po status shows the last apply).
Ctrl-C once: no new action starts and the running ones finish; twice: running harness processes
are stopped too. Either way the lock is released and a summary printed.

Options:
  --target NAME      apply only this project (repeatable)
  --yes, -y          do not ask for confirmation
  --parallelism N    projects worked on at once (default 4)
  --lock-timeout S   wait up to S seconds for another apply to finish (default 0)
  --offline          resolve refs from local repositories only
${COMMON_HELP}
Exit codes: 0 converged, 1 an action failed or the fleet did not converge, 130 interrupted.`;

function checkSaved(saved: SavedPlan, fresh: SavedPlan, applied: Set<string>, file: string): void {
  if (applied.has(saved.id))
    throw new UserError(
      `saved plan ${file} (${saved.id}) was already applied, and a plan is applied only once; run po plan again`,
    );
  if (saved.fleet.sha256 !== fresh.fleet.sha256)
    throw new UserError(`Saved plan is stale: ${saved.fleet.path} changed since it was made; run po plan again`);
  if (saved.fingerprint !== fresh.fingerprint) {
    const what = observedChanges(saved.observed, fresh.observed).slice(0, 5).join("; ") || "the observed state differs";
    throw new UserError(`Saved plan is stale: ${what}; run po plan again`);
  }
  // The planner is pure: the same fleet and world give the same actions. Others were edited in.
  if (JSON.stringify(saved.actions) !== JSON.stringify(fresh.actions))
    throw new UserError(
      `saved plan ${file}: its actions are not the ones this fleet and world give (was the file ` +
        `edited?); run po plan again`,
    );
}

function nextInventory(planned: Planned, results: ActionResult[], previous: InventoryEntry[]): InventoryEntry[] {
  const current = planned.fleet.projects.map((p) => ({ name: p.name, location: p.location, harness: p.harness }));
  const names = new Set(current.map((e) => e.name));
  // A removed project stays known until a stop of it succeeded, or nothing of it was live.
  const stillRunning = new Set(
    results.filter((r) => r.action.removed && r.outcome !== "ok").map((r) => r.action.project),
  );
  const removedNames = new Set(planned.removed.map((e) => e.name));
  const kept = previous.filter((e) => !names.has(e.name) && (stillRunning.has(e.name) || !removedNames.has(e.name)));
  return [...current, ...kept];
}

function line(r: ActionResult, color: boolean): string {
  const mark =
    r.outcome === "ok"
      ? paint("ok", "green", color)
      : r.outcome === "failed"
        ? paint("FAILED", "red", color)
        : paint("skipped", "yellow", color);
  return (
    `${r.action.project}: ${r.action.kind} ${mark} ` +
    `(${(r.ms / 1000).toFixed(1)}s)${r.error && r.outcome === "failed" ? `: ${r.error}` : ""}`
  );
}

interface Options {
  json: boolean;
  yes: boolean;
  parallelism: number;
  offline: boolean;
  fleetFile: string;
  targets: string[];
  saved?: SavedPlan;
  file?: string;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseVerb(
    "apply",
    argv,
    {
      target: { type: "string", multiple: true },
      yes: { type: "boolean", short: "y" },
      parallelism: { type: "string" },
      "lock-timeout": { type: "string" },
      offline: { type: "boolean" },
    },
    help,
  );
  if (!args) return 0;
  const parallelism = wholeNumber("apply", "parallelism", args.values.parallelism, 4);
  const lockTimeout = wholeNumber("apply", "lock-timeout", args.values["lock-timeout"], 0, 0);
  const file = args.positionals[0];
  if (args.positionals.length > 1) throw new UserError("apply takes at most one saved plan file; see po apply --help");
  const saved = file ? readPlanFile(file) : undefined;
  if (saved && many(args.values.target).length)
    throw new UserError("apply: --target cannot be combined with a saved plan (its targets are in the plan)");
  const targets = saved ? saved.targets : many(args.values.target);
  const fleetFile = saved ? saved.fleet.path : args.values.fleet;
  const opts: Options = {
    json: args.values.json,
    yes: Boolean(args.values.yes),
    parallelism,
    offline: Boolean(args.values.offline),
    fleetFile,
    targets,
    saved,
    file,
  };
  const lock = await acquireLock(stateDir(resolve(fleetFile)), lockTimeout * 1000, (h) =>
    process.stderr.write(`po: waiting up to ${lockTimeout} s for the apply of pid ${h.pid} on ${h.host} to finish\n`),
  );
  const interrupt = interrupts();
  try {
    if (lock.tookOver) await takeOver(lock, lock.tookOver, interrupt.soft);
    return await locked(opts, lock, interrupt);
  } finally {
    interrupt.dispose();
    lock.release();
  }
}

/**
 * After a kill -9: say so, and let what the killed apply left running finish before planning. Its
 * harness groups stay recorded in our lock meanwhile, so a kill during this wait loses nothing.
 */
async function takeOver(lock: Lock, dead: LockInfo, signal: AbortSignal): Promise<void> {
  process.stderr.write(
    `po: warning: took over a stale apply lock of pid ${dead.pid} (started ${dead.started}), whose process is gone\n`,
  );
  const children = dead.children ?? [];
  for (const c of children) lock.track(c, true);
  await settleOrphans(children, (m) => process.stderr.write(`po: ${m}…\n`), signal);
  for (const c of children) lock.track(c, false);
}

function interruptedEarly(json: boolean): number {
  if (json) printJson({ interrupted: true, results: [] });
  else process.stdout.write("Apply interrupted before any action; nothing was changed.\n");
  return 130;
}

/** The saved plan checked against a fresh one, or the fresh one; undefined when the operator said no. */
async function choosePlan(opts: Options, planned: Planned, interrupt: Interrupt): Promise<SavedPlan | undefined> {
  if (opts.saved) checkSaved(opts.saved, planned.plan, appliedPlans(planned.state), opts.file!);
  const plan = opts.saved ?? planned.plan;
  if (!opts.json) process.stdout.write(planText(plan, planned.fleet.projects, useColor()));
  if (opts.saved || opts.yes || !plan.actions.length) return plan;
  if (!process.stdin.isTTY)
    throw new UserError(
      "apply: refusing to change the fleet without confirmation: no terminal; pass --yes, or apply " +
        "a saved plan (po plan --out FILE)",
    );
  if (await confirm(interrupt)) return plan;
  if (!interrupt.soft.aborted) process.stdout.write("Apply cancelled; nothing was changed.\n");
  return undefined;
}

async function locked(opts: Options, lock: Lock, interrupt: Interrupt): Promise<number> {
  const planned = await makePlan({ fleetFile: opts.fleetFile, targets: opts.targets, offline: opts.offline });
  if (interrupt.soft.aborted) return interruptedEarly(opts.json);
  const plan = await choosePlan(opts, planned, interrupt);
  if (interrupt.soft.aborted) return interruptedEarly(opts.json);
  if (!plan) return 1;
  // Recorded before anything acts, so that not even an interrupted or killed apply can be replayed.
  if (opts.saved || plan.actions.length) recordApplied(planned.state, plan.id);
  if (!plan.actions.length) {
    if (opts.json) printJson({ plan, results: [], converged: plan.errors.length === 0 });
    return plan.errors.length ? 1 : 0;
  }
  journal(planned.state, { plan: plan.id, event: "apply-start", pid: process.pid, actions: plan.actions.length });
  const results = await execute(opts, planned, plan, lock, interrupt);
  writeInventory(planned.state, nextInventory(planned, results, readInventory(planned.state)));
  return report(opts, planned, plan, results, interrupt.soft.aborted);
}

async function execute(
  opts: Options,
  planned: Planned,
  plan: SavedPlan,
  lock: Lock,
  interrupt: Interrupt,
): Promise<ActionResult[]> {
  const color = useColor();
  const ports = effects(planned.fleet.projects, planned.removed, plan.actions, {
    offline: opts.offline,
    signal: interrupt.hard,
    track: (c, running) => lock.track(c, running),
  });
  return applyPlan(plan.actions, ports, {
    parallelism: opts.parallelism,
    signal: interrupt.soft,
    onStart: (a) => journal(planned.state, { plan: plan.id, project: a.project, action: a.kind, event: "start" }),
    onEnd: (r) => {
      journal(planned.state, {
        plan: plan.id,
        project: r.action.project,
        action: r.action.kind,
        event: "end",
        outcome: r.outcome,
        ms: Math.round(r.ms),
        ...(r.error ? { error: r.error } : {}),
      });
      if (!opts.json) process.stdout.write(line(r, color) + "\n");
    },
  });
}

/** Observes the fleet again, says whether it converged, journals the apply's outcome; the exit code. */
async function report(
  opts: Options,
  planned: Planned,
  plan: SavedPlan,
  results: ActionResult[],
  interrupted: boolean,
): Promise<number> {
  const after = await makePlan({ fleetFile: opts.fleetFile, targets: opts.targets, offline: opts.offline });
  const count = (o: ActionResult["outcome"]) => results.filter((r) => r.outcome === o).length;
  const [ok, failed, skipped] = [count("ok"), count("failed"), count("skipped")];
  const converged = after.plan.actions.length === 0 && after.plan.errors.length === 0;
  const outcome: ApplyOutcome = interrupted ? "interrupted" : converged ? "converged" : "not converged";
  journal(planned.state, { plan: plan.id, event: "apply-end", outcome, ok, failed, skipped });
  if (opts.json)
    printJson({ plan, results, interrupted, converged, remaining: after.plan.actions, errors: after.plan.errors });
  else {
    const color = useColor();
    process.stdout.write(
      `\nApply ${interrupted ? "interrupted" : "complete"}: ${ok} succeeded, ${failed} failed, ${skipped} skipped.\n`,
    );
    for (const r of results.filter((x) => x.outcome === "failed"))
      process.stderr.write(`po: ${r.action.project}: ${r.action.kind} failed: ${r.error}\n`);
    process.stdout.write(
      converged
        ? paint("The fleet converged: a new plan has no changes.\n", "green", color)
        : `The fleet has not converged: ${summaryLine(after.plan)} Run po plan to see why.\n`,
    );
  }
  if (interrupted) return 130;
  return failed || !converged || plan.errors.length ? 1 : 0;
}
