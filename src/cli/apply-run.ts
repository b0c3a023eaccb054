// What one apply runs once it is confirmed: the executor's port (harness output kept, harness
// process groups tracked in the lock), each action journaled as it starts and ends, this machine's
// actions here and each host's there, in waves when a rollout policy asks for them.
import type { ActionResult } from "../../reconcile/apply.js";
import type { Action } from "../../reconcile/model.js";
import { applyPlan } from "../../reconcile/apply.js";
import { effects } from "../act/effects.js";
import type { Planned } from "./make-plan.js";
import { useColor } from "./output.js";
import type { SavedPlan } from "../state/plan-file.js";
import { line, note, type Acting } from "./apply-report.js";
import { progress, quiet } from "./progress.js";
import type { HarnessRunOptions } from "../adapters/harness-run.js";
import { keptHarness } from "../state/unrecorded.js";
import type { RolloutReport } from "../act/rollout.js";
import { pinRecord, rollOut } from "./apply-rollout.js";
import { rolloutPolicy } from "./rollout-options.js";
import { applyEverywhere } from "../remote/apply-hosts.js";
import type { Interrupt } from "./interrupt.js";
import type { Lock } from "../state/state.js";

/** Runs the confirmed plan's actions (in waves when asked); a state write that fails is kept, not thrown. */
export async function execute(
  opts: Acting,
  planned: Planned,
  plan: SavedPlan,
  lock: Lock,
  interrupt: Interrupt,
): Promise<{ results: ActionResult[]; rolled?: RolloutReport }> {
  const { track, record } = keptHarness(opts.unrecorded, lock, planned.state, `${opts.verb} ${plan.id}`);
  const harness: HarnessRunOptions = { signal: interrupt.hard, track };
  const sessions = new Map(
    [...planned.observation.actual.values(), ...planned.observation.removed.values()].map((a) => [a.name, a.sessions]),
  );
  const ports = effects(planned.fleet.projects, planned.removed, plan.actions, {
    offline: opts.offline,
    sessions,
    stateDir: planned.state,
    ...harness,
    record,
  });
  const run = (actions: SavedPlan["actions"]) => runActions(opts, planned, plan, actions, ports, interrupt);
  const policy = rolloutPolicy("apply", opts.values, planned.fleet.rollout);
  if (!policy) return { results: await run(plan.actions) };
  const journalLine = (entry: Record<string, unknown>) =>
    note(opts, planned.state, { plan: plan.id, ...entry } as Parameters<typeof note>[2]);
  const rolled = await rollOut(policy, {
    ...{ actions: plan.actions, projects: planned.fleet.projects, yes: opts.yes, json: opts.json },
    ...{ interrupt, harness, run, journal: journalLine },
  });
  return { results: rolled.results, rolled };
}

async function runActions(
  opts: Acting,
  planned: Planned,
  plan: SavedPlan,
  actions: SavedPlan["actions"],
  ports: ReturnType<typeof effects>,
  interrupt: Interrupt,
): Promise<ActionResult[]> {
  const color = useColor();
  const shown = !opts.json && process.stdout.isTTY ? progress((l) => process.stdout.write(`${l}\n`)) : quiet;
  const at = (a: { host?: string }) => (a.host ? { host: a.host } : {});
  const hooks = {
    onStart: (a: Action) => {
      shown.start(a);
      note(opts, planned.state, { plan: plan.id, project: a.project, ...at(a), action: a.kind, event: "start" });
    },
    onEnd: (r: ActionResult) => {
      shown.end(r.action);
      note(opts, planned.state, {
        plan: plan.id,
        project: r.action.project,
        ...at(r.action),
        action: r.action.kind,
        event: "end",
        outcome: r.outcome,
        ms: Math.round(r.ms),
        ...(r.error ? { error: r.error } : {}),
        ...pinRecord(r.action),
      });
      if (!opts.json) process.stdout.write(line(r, color) + "\n");
    },
  };
  // No new action starts after a Ctrl-C or a state write that failed here, on this machine or a host.
  const soft = AbortSignal.any([interrupt.soft, opts.unrecorded.signal]);
  // this machine's actions here, each host's on that host by its own po
  const local = (mine: Action[]) => applyPlan(mine, ports, { parallelism: opts.parallelism, signal: soft, ...hooks });
  const results = await applyEverywhere(planned.fleet, planned.removed, actions, local, {
    ...opts,
    ...hooks,
    planId: plan.id,
    restart: opts.verb === "restart",
    soft,
    hard: interrupt.hard,
    onUnrecorded: opts.unrecorded.tell,
  });
  shown.stop();
  return results;
}
