// Load, observe, plan: what plan, apply and status share.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { DesiredFleet, InventoryEntry, PlanBody } from "../../reconcile/model.js";
import { planFleet } from "../../reconcile/plan.js";
import { requireFleet } from "../registry/fleet.js";
import { observeFleet, type Observation } from "../observe/observe.js";
import { newPlan, observedRecord, sha256, type SavedPlan } from "../state/plan-file.js";
import { targets as selectTargets } from "./select.js";
import { readInventory, stateDir } from "../state/state.js";

export interface Planned {
  fleet: DesiredFleet;
  state: string;
  removed: InventoryEntry[];
  observation: Observation;
  plan: SavedPlan;
}

export interface PlanOptions {
  fleetFile: string;
  targets: string[];
  offline: boolean;
}

/** A tag naming the pinned commit, for display ("v0.1.0" rather than a sha), from the harness's own tags. */
async function nameFromRefs(plan: PlanBody, fleet: DesiredFleet, observation: Observation): Promise<void> {
  for (const a of plan.actions.filter((x) => x.kind === "pin" && x.from)) {
    const p = fleet.projects.find((x) => x.name === a.project)!;
    const tag = await observation.refs.tagOf(p.harness, a.from!, join(p.location, p.harness.path));
    if (tag) a.fromRef = tag;
  }
}

export async function makePlan(opts: PlanOptions): Promise<Planned> {
  const { fleet } = await requireFleet(opts.fleetFile);
  const chosen = selectTargets(fleet, opts.targets);
  const projects = fleet.projects.filter((p) => chosen.has(p.name));
  const state = stateDir(fleet.path);
  const known = new Set(fleet.projects.map((p) => p.name));
  // Projects that left fleet.toml are stopped only by an apply of the whole fleet.
  const removed = opts.targets.length ? [] : readInventory(state).filter((e) => !known.has(e.name));
  const observation = await observeFleet(projects, removed, { offline: opts.offline, stateDir: state });
  const body = planFleet(projects, observation.actual, removed, observation.removed);
  await nameFromRefs(body, fleet, observation);
  const fleetInfo = { path: fleet.path, sha256: sha256(readFileSync(fleet.path, "utf8")) };
  const observed = observedRecord([...observation.actual.values(), ...observation.removed.values()]);
  return { fleet, state, removed, observation, plan: newPlan(fleetInfo, [...opts.targets].sort(), body, observed) };
}
