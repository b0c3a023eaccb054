// Plain desired and actual projects for the pure planner's table-driven tests.
import type { ActualProject, DesiredProject, HarnessSpec } from "../../reconcile/model.js";

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
