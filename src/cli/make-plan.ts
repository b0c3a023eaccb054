// Load, observe, plan: what plan, apply and status share.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { DesiredFleet, InventoryEntry, PlanBody } from "../../reconcile/model.js";
import { planFleet } from "../../reconcile/plan.js";
import { requireFleet } from "../registry/fleet.js";
import { tagAt } from "../observe/resolve-ref.js";
import { HOSTS_PARALLELISM, observeEverywhere, placePlan, type FleetObservation } from "../remote/observe-hosts.js";
import { newPlan, observedRecord, sha256, type SavedPlan } from "../state/plan-file.js";
import { targets as selectTargets } from "./select.js";
import { readInventory, stateDir } from "../state/state.js";

export interface Planned {
  fleet: DesiredFleet;
  state: string;
  removed: InventoryEntry[];
  observation: FleetObservation;
  plan: SavedPlan;
}

export interface PlanOptions {
  fleetFile: string;
  targets: string[];
  offline: boolean;
  /** other hosts observed at once (default 8) */
  hostsParallelism?: number;
}

/** A tag naming the pinned commit, for display ("v0.1.0" rather than a sha). */
async function nameFromRefs(plan: PlanBody, fleet: DesiredFleet): Promise<void> {
  // a remote project's harness checkout is on its host, not here
  for (const a of plan.actions.filter((x) => x.kind === "pin" && x.from && !x.host)) {
    const p = fleet.projects.find((x) => x.name === a.project)!;
    const tag = await tagAt(join(p.location, p.harness.path), a.from!);
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
  const observation = await observeEverywhere(fleet, projects, removed, {
    offline: opts.offline,
    hostsParallelism: opts.hostsParallelism ?? HOSTS_PARALLELISM,
  });
  // the projects of a host that could not be observed are errors of the plan, not guesses
  const seen = projects.filter((p) => observation.actual.has(p.name));
  const body = placePlan(
    planFleet(seen, observation.actual, removed, observation.removed),
    observation,
    projects,
    removed,
  );
  await nameFromRefs(body, fleet);
  const fleetInfo = { path: fleet.path, sha256: sha256(readFileSync(fleet.path, "utf8")) };
  const observed = observedRecord([...observation.actual.values(), ...observation.removed.values()]);
  return { fleet, state, removed, observation, plan: newPlan(fleetInfo, [...opts.targets].sort(), body, observed) };
}
