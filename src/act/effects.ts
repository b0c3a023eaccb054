// The executor's port: each action kind performed against git, the harness and tmux.
import { dirname } from "node:path";
import { mkdirSync } from "node:fs";
import type { Action, DesiredProject, InventoryEntry } from "../../reconcile/model.js";
import type { ApplyPorts } from "../../reconcile/apply.js";
import { planProject } from "../../reconcile/plan.js";
import { loadAgents } from "../registry/agents-file.js";
import { gitMessage, gitRaw } from "../adapters/git.js";
import { runHarness, waitForSessions, type HarnessRunOptions } from "./harness.js";
import { observeProject } from "../observe/observe.js";
import { checkPinnable, pin } from "./pin.js";
import { resolver } from "../observe/resolve-ref.js";
import { listSessions, sessionName } from "../adapters/tmux.js";

type Target = Pick<DesiredProject, "name" | "location" | "harness">;

async function expectedSessions(p: Target): Promise<string[]> {
  const { config } = await loadAgents(p.location);
  return (config?.agents ?? []).map((a) => sessionName(p.location, a.name, p.harness.session));
}

async function start(p: Target, run: HarnessRunOptions): Promise<void> {
  await runHarness(p.harness, "up", p.location, run);
  const want = await expectedSessions(p);
  await waitForSessions(
    (live) => want.every((s) => live.has(s)),
    p.harness.timeoutMs,
    `harness up finished but not every session of ${p.name} came up (${want.join(", ")})`,
  );
}

async function stop(p: Target, run: HarnessRunOptions): Promise<void> {
  await runHarness(p.harness, "down", p.location, run);
  const want = await expectedSessions(p);
  await waitForSessions(
    (live) => !want.some((s) => live.has(s)),
    p.harness.timeoutMs,
    `harness down finished but sessions of ${p.name} are still live`,
  );
}

async function clone(p: DesiredProject): Promise<void> {
  mkdirSync(dirname(p.location), { recursive: true });
  await gitRaw(
    dirname(p.location),
    ["clone", "--quiet", "--recurse-submodules", "--end-of-options", p.url!, p.location],
    true,
  ).catch((e) => {
    throw new Error(`git clone of ${p.url} into ${p.location} failed: ${gitMessage(e)}`);
  });
}

async function init(p: DesiredProject): Promise<void> {
  await gitRaw(p.location, ["submodule", "update", "--init", "--quiet", "--", p.harness.path], true).catch((e) => {
    throw new Error(`git submodule update --init ${p.harness.path} in ${p.location} failed: ${gitMessage(e)}`);
  });
}

/**
 * A pin that fails after its project was stopped for it (the restart around a pin) starts the
 * agents again on the old harness, so a refused pin does not leave the project down.
 */
async function pinOrRestore(
  p: DesiredProject,
  action: Action,
  stopped: boolean,
  run: HarnessRunOptions,
): Promise<void> {
  try {
    await pin(p, action);
  } catch (e) {
    if (!stopped) throw e;
    const again = await start(p, run).then(
      () => "its agents were started again on the old harness",
      (e2: Error) => `starting its agents again failed too: ${e2.message}`,
    );
    throw new Error(`${(e as Error).message}; ${again}`);
  }
}

export interface Effects extends ApplyPorts {
  replan(project: string): Promise<Action[]>;
}

export interface EffectsOptions extends HarnessRunOptions {
  offline: boolean;
  /** .ao-state: the harness mirrors that resolve refs, as for the plan */
  stateDir?: string;
}

export function effects(
  projects: DesiredProject[],
  removed: InventoryEntry[],
  actions: Action[],
  opts: EffectsOptions,
): Effects {
  const byName = new Map(projects.map((p) => [p.name, p]));
  const gone = new Map(removed.map((e) => [e.name, e]));
  const pins = new Map(actions.filter((a) => a.kind === "pin").map((a) => [a.project, a]));
  const stoppedForPin = new Set<string>();
  return {
    async run(action) {
      const p = byName.get(action.project);
      if (action.removed || !p) return stop(gone.get(action.project)!, opts);
      switch (action.kind) {
        case "clone":
          return clone(p);
        case "init":
          return init(p);
        case "stop":
          if (!action.restart || !pins.has(p.name)) return stop(p, opts);
          // The stop before a pin happens only when the pin can go ahead: a refused pin leaves the agents running.
          await checkPinnable(p, pins.get(p.name)!);
          await stop(p, opts);
          stoppedForPin.add(p.name);
          return;
        case "pin":
          return pinOrRestore(p, action, stoppedForPin.has(p.name), opts);
        case "start":
          return start(p, opts);
      }
    },
    async replan(project) {
      const p = byName.get(project)!;
      const actual = await observeProject(p, await listSessions(), resolver(opts.offline, opts.stateDir));
      const body = planProject(p, actual);
      if (body.errors.length) throw new Error(body.errors.map((e) => e.message).join("; "));
      pins.delete(project);
      for (const a of body.actions.filter((x) => x.kind === "pin")) pins.set(project, a);
      return body.actions;
    },
  };
}
