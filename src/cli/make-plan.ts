// Load, observe, plan: what plan, apply and status share.
import { readFileSync } from "node:fs";
import type { DesiredFleet, InventoryEntry, PlanBody } from "../../reconcile/model.js";
import { planFleet } from "../../reconcile/plan.js";
import { requireFleet } from "../registry/fleet.js";
import { realLocation } from "../common/real-location.js";
import { HOSTS_PARALLELISM, observeEverywhere, placePlan } from "../remote/observe-hosts.js";
import type { FleetObservation, HostsOptions } from "../remote/observe-hosts.js";
import { newPlan, observedRecord, sha256, type SavedPlan } from "../state/plan-file.js";
import { targets as selectTargets } from "./select.js";
import { readInventory, stateDir } from "../state/state.js";
import { redactDeep } from "../common/redact.js";

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
  /** projects left out (--exclude) */
  exclude?: string[];
  offline: boolean;
  /** plan this text of fleet.toml instead of the file's (a preview of an edit not yet written) */
  source?: string;
  /** other hosts observed at once (default 8) */
  hostsParallelism?: number;
  /** po status: remote projects' agents, from their hosts */
  agents?: HostsOptions["agents"];
}

/** A tag naming the pinned commit, for display ("v0.1.0" rather than a sha), from the harness's own tags. */
async function nameFromRefs(plan: PlanBody, fleet: DesiredFleet, observation: FleetObservation): Promise<void> {
  // a pin's `from` is the commit the project pins now
  for (const a of plan.actions.filter((x) => x.kind === "pin" && x.from)) {
    const tag = await observation.pinnedTag(fleet.projects.find((x) => x.name === a.project)!);
    if (tag) a.fromRef = tag;
  }
}

export async function makePlan(opts: PlanOptions): Promise<Planned> {
  const { fleet } = await requireFleet(opts.fleetFile, opts.source);
  const chosen = selectTargets(fleet, opts.targets, opts.exclude);
  const projects = fleet.projects.filter((p) => chosen.has(p.name));
  // An exclusion names the targets it leaves, so that a saved plan keeps them.
  const targets = opts.targets.length || opts.exclude?.length ? [...chosen] : [];
  const state = stateDir(fleet.path);
  const known = new Set(fleet.projects.map((p) => p.name));
  const places = new Set(fleet.projects.map((p) => realLocation(p.location)));
  const inventory = readInventory(state);
  // Projects that left fleet.toml are stopped only by an apply of the whole fleet. A key renamed at
  // the same location is the same project: its entry is not a removal.
  const removed = targets.length
    ? []
    : inventory.filter((e) => !known.has(e.name) && !places.has(realLocation(e.location)));
  const observation = await observeEverywhere(fleet, projects, removed, {
    offline: opts.offline,
    hostsParallelism: opts.hostsParallelism ?? HOSTS_PARALLELISM,
    inventory,
    stateDir: state,
    agents: opts.agents,
  });
  // the projects of a host that could not be observed are errors of the plan, not guesses
  const seen = projects.filter((p) => observation.actual.has(p.name));
  // A plan is printed and saved: the credentials of a url in a reason or an error stay in fleet.toml.
  const body = redactDeep(
    placePlan(planFleet(seen, observation.actual, removed, observation.removed), observation, projects, removed),
  );
  await nameFromRefs(body, fleet, observation);
  const fleetInfo = { path: fleet.path, sha256: sha256(opts.source ?? readFileSync(fleet.path, "utf8")) };
  const observed = redactDeep(observedRecord([...observation.actual.values(), ...observation.removed.values()]));
  return { fleet, state, removed, observation, plan: newPlan(fleetInfo, targets.sort(), body, observed) };
}
