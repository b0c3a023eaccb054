// The executor's port: each action kind performed against git, the harness and tmux.
import { dirname } from "node:path";
import { mkdirSync } from "node:fs";
import type { Action, DesiredProject, InventoryEntry } from "../reconcile/model.js";
import type { ApplyPorts } from "../reconcile/apply.js";
import { planProject } from "../reconcile/plan.js";
import { loadAgents } from "./agents-file.js";
import { gitRaw } from "./git.js";
import { runHarness, waitForSessions } from "./harness.js";
import { observeProject, sessionName } from "./observe.js";
import { pin } from "./pin.js";
import { resolver } from "./resolve-ref.js";
import { listSessions } from "./tmux.js";

type Target = Pick<DesiredProject, "name" | "location" | "harness">;

async function expectedSessions(p: Target): Promise<string[]> {
  const { config } = await loadAgents(p.location);
  return (config?.agents ?? []).map((a) => sessionName(p.harness, p.location, a.name));
}

async function start(p: Target): Promise<void> {
  await runHarness(p.harness, "up", p.location);
  const want = await expectedSessions(p);
  await waitForSessions((live) => want.every((s) => live.has(s)), p.harness.timeoutMs, `harness up finished but not every session of ${p.name} came up (${want.join(", ")})`);
}

async function stop(p: Target): Promise<void> {
  await runHarness(p.harness, "down", p.location);
  const want = await expectedSessions(p);
  await waitForSessions((live) => !want.some((s) => live.has(s)), p.harness.timeoutMs, `harness down finished but sessions of ${p.name} are still live`);
}

async function clone(p: DesiredProject): Promise<void> {
  mkdirSync(dirname(p.location), { recursive: true });
  await gitRaw(dirname(p.location), ["clone", "--quiet", "--recurse-submodules", "--end-of-options", p.url!, p.location], true);
}

async function init(p: DesiredProject): Promise<void> {
  await gitRaw(p.location, ["submodule", "update", "--init", "--quiet", "--", p.harness.path], true);
}

export interface Effects extends ApplyPorts {
  replan(project: string): Promise<Action[]>;
}

export function effects(projects: DesiredProject[], removed: InventoryEntry[], offline: boolean): Effects {
  const byName = new Map(projects.map((p) => [p.name, p]));
  const gone = new Map(removed.map((e) => [e.name, e]));
  return {
    async run(action) {
      const p = byName.get(action.project);
      if (action.removed || !p) return stop(gone.get(action.project)!);
      switch (action.kind) {
        case "clone":
          return clone(p);
        case "init":
          return init(p);
        case "stop":
          return stop(p);
        case "pin":
          return pin(p, action);
        case "start":
          return start(p);
      }
    },
    async replan(project) {
      const p = byName.get(project)!;
      const actual = await observeProject(p, await listSessions(), resolver(offline));
      const body = planProject(p, actual);
      if (body.errors.length) throw new Error(body.errors.map((e) => e.message).join("; "));
      return body.actions;
    },
  };
}

