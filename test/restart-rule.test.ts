// Unit tests of po restart's rule (reconcile/restart.ts): plain objects in, exact actions or refusals out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { restarts } from "../reconcile/restart.js";
import { planFleet } from "../reconcile/plan.js";
import type { ActualProject, DesiredProject, PlanBody } from "../reconcile/model.js";
import { actual, desired, OLD } from "./support/plan-fixtures.js";

/** The restarts of `ds`, against `plan` or else against what the planner makes of them. */
function run(ds: DesiredProject[], as: ActualProject[], plan?: PlanBody) {
  const seen = new Map(as.map((a) => [a.name, a]));
  return restarts(ds, seen, plan ?? planFleet(ds, seen, [], new Map()));
}

test("a running project: a stop and a start, both marked as a restart, counting its live sessions", () => {
  assert.deepEqual(run([desired("p")], [actual("p", { live: ["p-one"] })]), [
    { project: "p", kind: "stop", reason: "po restart: 1/2 sessions live", restart: true },
    { project: "p", kind: "start", reason: "po restart: 1/2 sessions live", restart: true },
  ]);
});

test("a project with no live session is only started, as the plan would", () => {
  assert.deepEqual(run([desired("p")], [actual("p", { live: [] })]), [
    { project: "p", kind: "start", reason: "po restart: not running (0/2 sessions live); start it", restart: false },
  ]);
});

test("several projects in their order; the first that cannot be restarted is the answer", () => {
  const ds = [desired("a"), desired("b", { enabled: false }), desired("c")];
  const as = ds.map((d) => actual(d.name, d.enabled ? {} : { live: [] }));
  assert.equal(run(ds, as), "b is disabled; po start b enables and starts it");
  assert.deepEqual(
    (run([ds[0]!, ds[2]!], as) as { project: string; kind: string }[]).map((a) => `${a.project}:${a.kind}`),
    ["a:stop", "a:start", "c:stop", "c:start"],
  );
});

test("refusals: a plan error or no observation, changes pending, no agents", () => {
  const p = desired("p");
  const plan = { actions: [], errors: [{ project: "p", message: "host h1 cannot be reached" }] };
  assert.equal(run([p], [actual("p")], plan), "p cannot be planned: host h1 cannot be reached");
  assert.equal(run([p], [], { actions: [], errors: [] }), "p cannot be planned: it was not observed");
  assert.equal(
    run([p], [actual("p", { pinned: OLD, checkedOut: OLD })]),
    "p has changes pending (stop, pin); apply them first (po apply p), which restarts what needs it",
  );
  assert.equal(run([p], [actual("p", {}, [])]), "p has no agents in its agents.toml");
});
