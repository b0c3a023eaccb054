// po apply: execute the plan (fresh, or a saved one), one apply at a time, journaled, then check
// that the fleet converged.
import { resolve } from "node:path";
import type { ActionResult } from "../../reconcile/apply.js";
import { confirm, interrupts, type Interrupt } from "./interrupt.js";
import { parseVerb, selection, wholeNumber, COMMON_HELP, SELECT_HELP, SELECT_OPTIONS } from "./args.js";
import { makePlan, type Planned } from "./make-plan.js";
import { useColor } from "./output.js";
import { readPlanFile, type SavedPlan } from "../state/plan-file.js";
import { UserError } from "../common/problems.js";
import { planText } from "./render.js";
import { note, report, rest, result, word, type Acting, type Options } from "./apply-report.js";
import { beforeActing, unrecorded } from "../state/unrecorded.js";
import { execute } from "./apply-run.js";
import { boundToFleet, checkSaved, isCurrentFleet, savedPlanFile } from "./saved-plan.js";
import { nextInventory, type InventoryInput } from "../state/inventory.js";
import { settleOrphans } from "../act/harness.js";
import { refuseRemoteGate, rolloutPolicy, ROLLOUT_HELP, ROLLOUT_OPTIONS } from "./rollout-options.js";
import { HOSTS_PARALLELISM } from "../remote/observe-hosts.js";
import {
  acquireLock,
  appliedPlans,
  readInventory,
  recordApplied,
  stateDir,
  writeInventory,
  type Lock,
  type LockInfo,
} from "../state/state.js";

export const summary = "execute the plan: converge the fleet to fleet.toml";
const help =
  `Usage: po apply [PLANFILE | NAME…] [--exclude NAME]… [--yes] [--parallelism N] [--lock-timeout ` +
  `S] [--offline] [--json | --json-stream]

Plans (or reads the saved PLANFILE from po plan --out), then executes only those actions:
projects in parallel, actions in order within a project; a failed action skips the rest of its
project while the others go on. Afterwards the fleet is observed again and po says whether it
converged. Asks for confirmation on a terminal; without one, --yes is required (a saved plan
needs none). A saved plan is refused when the world changed since it was made, or when it was
already applied. One apply runs at a time (.ao-state/apply.lock); the lock of an apply whose
process died is taken over, after what it left running has finished. Every action is journaled
as it starts and ends (.ao-state/journal.jsonl; po status shows the last apply).
On a terminal, an action running for a while is reported every few seconds. What each harness up
and down printed is kept (the end of it) for po logs NAME --harness.
Ctrl-C once: no new action starts and the running ones finish; twice: running harness processes
are stopped too. Either way the lock is released and a summary printed.

Options:
${SELECT_HELP}
  --yes, -y          do not ask for confirmation
  --parallelism N    projects worked on at once (default 4)
  --lock-timeout S   wait up to S seconds for another apply to finish (default 0)
  --offline          resolve refs from local repositories only
  --json-stream      print one JSON object per line as things happen: the plan, each action's
                     start and end (as in the journal), then the result
  --hosts-parallelism N  other hosts worked on at once (default 8)
${ROLLOUT_HELP}
${COMMON_HELP}
Exit codes: 0 converged, 1 an action failed or the fleet did not converge, 130 interrupted.`;

function inventoryInput(planned: Planned, after: Planned, results: ActionResult[]): InventoryInput {
  const failed = results.filter((r) => r.action.removed && r.outcome !== "ok").map((r) => r.action.project);
  return { projects: planned.fleet.projects, after: after.observation.actual, removed: planned.removed, failed };
}

export const run = (argv: string[]) => runApply(argv, false);

/** po apply after po start/stop/update was confirmed: the apply asks again only at a canary wave. */
export const applyAgreed = (argv: string[]) => runApply(argv, true);

async function runApply(argv: string[], agreed: boolean): Promise<number> {
  const args = parseVerb(
    "apply",
    argv,
    {
      ...SELECT_OPTIONS,
      yes: { type: "boolean", short: "y" },
      parallelism: { type: "string" },
      "lock-timeout": { type: "string" },
      offline: { type: "boolean" },
      "json-stream": { type: "boolean" },
      "hosts-parallelism": { type: "string" },
      ...ROLLOUT_OPTIONS,
    },
    help,
  );
  if (!args) return 0;
  const parallelism = wholeNumber("apply", "parallelism", args.values.parallelism, 4);
  const lockTimeout = wholeNumber("apply", "lock-timeout", args.values["lock-timeout"], 0, 0);
  const file = await savedPlanFile(args.positionals, args.values.fleet);
  const saved = file ? readPlanFile(file) : undefined;
  const chosen = selection(args.values, file ? [] : args.positionals);
  if (saved && (chosen.targets.length || chosen.exclude.length))
    throw new UserError("apply: names cannot be combined with a saved plan (its targets are in the plan)");
  const stream = Boolean(args.values["json-stream"]);
  if (saved) boundToFleet(saved, file!, args.values.fleet);
  rolloutPolicy("apply", args.values);
  const opts: Options = {
    verb: "apply",
    json: args.values.json || stream,
    stream,
    yes: Boolean(args.values.yes),
    parallelism,
    hostsParallelism: wholeNumber("apply", "hosts-parallelism", args.values["hosts-parallelism"], HOSTS_PARALLELISM),
    offline: Boolean(args.values.offline),
    fleetFile: args.values.fleet,
    targets: saved ? saved.targets : chosen.targets,
    exclude: saved ? [] : chosen.exclude,
    lockTimeoutMs: lockTimeout * 1000,
    saved,
    file,
    values: args.values,
    agreed,
  };
  return applyWith(opts);
}

/** Takes the lock, plans, asks, executes and reports: what po apply and po restart share. */
export async function applyWith(opts: Options): Promise<number> {
  const lock = await acquireLock(stateDir(resolve(opts.fleetFile)), opts.lockTimeoutMs, undefined, (holder) =>
    process.stderr.write(
      `po: waiting for another apply to finish (pid ${holder.pid} on ${holder.host}, since ${holder.started})…\n`,
    ),
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

function interruptedEarly(opts: Options): number {
  if (opts.json) result(opts, { interrupted: true, results: [] });
  else process.stdout.write(`${word(opts)} interrupted before any action; nothing was changed.\n`);
  return 130;
}

/** --dry-run: the plan shown, nothing run or recorded; 2 with --detailed-exitcode when it would act. */
function dryRun(opts: Options, planned: Planned): number {
  if (opts.json) result(opts, { plan: planned.plan, dryRun: true });
  else process.stdout.write(planText(planned.plan, planned.fleet.projects, useColor()));
  if (planned.plan.errors.length) return 1;
  return opts.values["detailed-exitcode"] && planned.plan.actions.length ? 2 : 0;
}

/** The saved plan checked against a fresh one, or the fresh one; undefined when the operator said no. */
async function choosePlan(opts: Options, planned: Planned, interrupt: Interrupt): Promise<SavedPlan | undefined> {
  if (opts.saved) checkSaved(opts.saved, planned.plan, appliedPlans(planned.state), opts.file!);
  const plan = opts.saved ?? planned.plan;
  if (opts.stream) process.stdout.write(`${JSON.stringify({ event: "plan", plan })}\n`);
  if (!opts.json) process.stdout.write(planText(plan, planned.fleet.projects, useColor()));
  if (opts.yes || opts.agreed || !plan.actions.length || (opts.saved && isCurrentFleet(opts.fleetFile))) return plan;
  if (!process.stdin.isTTY)
    throw new UserError(
      `${opts.verb}: refusing to change the fleet without confirmation: no terminal; pass --yes` +
        (opts.verb === "apply" ? ", or apply a saved plan (po plan --out FILE)" : ""),
    );
  if (await confirm(interrupt)) return plan;
  if (!interrupt.soft.aborted) process.stdout.write(`${word(opts)} cancelled; nothing was changed.\n`);
  return undefined;
}

async function locked(opts: Options, lock: Lock, interrupt: Interrupt): Promise<number> {
  const planned = await makePlan(opts);
  if (opts.rewrite) planned.plan = opts.rewrite(planned);
  const starts = new Set(planned.plan.actions.filter((a) => a.kind === "start").map((a) => a.project));
  const policy = rolloutPolicy(opts.verb, opts.values, planned.fleet.rollout);
  refuseRemoteGate(
    opts.verb,
    policy,
    planned.fleet.projects.filter((p) => starts.has(p.name)),
  );
  if (interrupt.soft.aborted) return interruptedEarly(opts);
  if (opts.dryRun) return dryRun(opts, planned);
  const plan = await choosePlan(opts, planned, interrupt);
  if (interrupt.soft.aborted) return interruptedEarly(opts);
  if (!plan) return 1;
  beforeActing(() => {
    // Recorded before anything acts, so that not even an interrupted or killed apply can be replayed.
    if (opts.saved || plan.actions.length) recordApplied(planned.state, plan.id);
    if (!plan.actions.length) {
      writeInventory(planned.state, nextInventory(inventoryInput(planned, planned, []), readInventory(planned.state)));
    } else
      note(opts, planned.state, {
        plan: plan.id,
        pid: process.pid,
        actions: plan.actions.length,
        verb: opts.verb,
        event: "apply-start",
      });
  });
  if (!plan.actions.length) {
    if (opts.json) result(opts, { plan, results: [], converged: plan.errors.length === 0 });
    else if (plan.targets.length) process.stdout.write(`${(await rest(opts)).trim()}\n`.replace(/^\n$/, ""));
    return plan.errors.length ? 1 : 0;
  }
  // From here on the world changes: a state write that fails is told, and starts no new action.
  const acting: Acting = { ...opts, unrecorded: unrecorded() };
  const { results, rolled } = await execute(acting, planned, plan, lock, interrupt);
  const after = await makePlan(opts).catch((e: Error) => e);
  // The inventory is written even when observing again fails: a removed project must stay known.
  const seen = inventoryInput(planned, after instanceof Error ? planned : after, results);
  acting.unrecorded.keep(
    () => writeInventory(planned.state, nextInventory(seen, readInventory(planned.state))),
    (where) => `the fleet's inventory (its projects and sessions) could not be recorded in ${where}`,
  );
  if (after instanceof Error) throw after;
  return report(acting, after, planned, plan, results, interrupt.soft.aborted, rolled);
}
