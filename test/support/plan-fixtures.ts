// Plain desired and actual projects for the pure planner's table-driven tests.
import { planFleet } from "../../reconcile/plan.js";
import type { Action, ActualProject, DesiredProject, HarnessSpec, InventoryEntry } from "../../reconcile/model.js";

export const [OLD, NEW, OTHER] = ["a".repeat(40), "b".repeat(40), "c".repeat(40)];

export const harness: HarnessSpec = {
  name: "h",
  url: "https://example.test/h.git",
  path: "engine",
  up: ["./up"],
  down: ["./down"],
  session: "{dir}-{agent}",
  timeoutMs: 1000,
};

export function desired(name: string, over: Partial<DesiredProject> = {}): DesiredProject {
  return { name, location: `/fleet/${name}`, harness, ref: "v1", enabled: true, ...over };
}

/** A healthy project pinned at the desired commit, each of `agents` live in its session. */
export function actual(name: string, over: Partial<ActualProject> = {}, agents = ["one", "two"]): ActualProject {
  const sessions = agents.map((a) => `${name}-${a}`);
  return {
    name,
    exists: true,
    isRepo: true,
    pinned: NEW,
    checkedOut: NEW,
    resolved: NEW,
    agents,
    sessions,
    live: [...sessions],
    ...over,
  };
}

/** What observation finds where a project has no folder yet. */
export const missing: Partial<ActualProject> = {
  exists: false,
  isRepo: false,
  pinned: undefined,
  checkedOut: undefined,
  resolved: undefined,
};

export function plan(
  ds: DesiredProject[],
  as: ActualProject[],
  inv: InventoryEntry[] = [],
  removed: ActualProject[] = [],
) {
  return planFleet(ds, byName(as), inv, byName(removed));
}

function byName(as: ActualProject[]): Map<string, ActualProject> {
  return new Map(as.map((a) => [a.name, a]));
}

/** "stop:restart" for the restart around a pin, "stop:removed" for a removed project, else the kind. */
export function kinds(actions: Action[]): string[] {
  return actions.map((a) => a.kind + (a.restart ? ":restart" : "") + (a.removed ? ":removed" : ""));
}

export function one(d: DesiredProject, a: ActualProject) {
  return plan([d], [a]);
}
