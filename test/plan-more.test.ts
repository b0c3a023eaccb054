// Unit tests of the pure planner, continued: init and checkout drift, removed projects,
// fleet-level properties and exact reasons.

import { test } from "node:test";
import assert from "node:assert/strict";
import { planProject, summarize } from "../reconcile/plan.js";
import { actual, desired, harness, kinds, missing, NEW, OLD, one, OTHER, plan } from "./support/plan-fixtures.js";

// ---- init, checkout drift, agents -------------------------------------------------------------

test("uninitialized submodule pinned right: init only (start as sessions need)", () => {
  assert.deepEqual(kinds(one(desired("p"), actual("p", { checkedOut: undefined })).actions), ["init"]);
  const stopped = one(desired("p"), actual("p", { checkedOut: undefined, live: [] }));
  assert.deepEqual(kinds(stopped.actions), ["init", "start"]);
});

test("uninitialized submodule pinned wrong: init then pin, with the restart around it", () => {
  const body = one(desired("p"), actual("p", { checkedOut: undefined, pinned: OLD }));
  assert.deepEqual(kinds(body.actions), ["init", "stop:restart", "pin", "start:restart"]);
  const pin = body.actions.find((a) => a.kind === "pin")!;
  assert.deepEqual([pin.from, pin.to], [OLD, NEW]);
});

test("checkedOut differing from a right pin needs a pin (a checkout), from and to both the pin", () => {
  const body = one(desired("p"), actual("p", { checkedOut: OTHER }));
  assert.deepEqual(kinds(body.actions), ["stop:restart", "pin", "start:restart"]);
  const pin = body.actions[1]!;
  assert.deepEqual([pin.ref, pin.from, pin.to], ["v1", NEW, NEW]);
  assert.match(pin.reason, /checked out/);
});

test("checkedOut differing with local changes is an error", () => {
  const body = one(desired("p"), actual("p", { checkedOut: OTHER, dirty: "1 modified file" }));
  assert.deepEqual(body.actions, []);
  assert.equal(body.errors.length, 1);
});

test("no agents: never start or stop, but still pin", () => {
  const none = { agents: [], sessions: [], live: [] };
  assert.deepEqual(one(desired("p"), actual("p", none)), { actions: [], errors: [] });
  assert.deepEqual(kinds(one(desired("p"), actual("p", { ...none, pinned: OLD })).actions), ["pin"]);
  assert.deepEqual(kinds(one(desired("p", { enabled: false }), actual("p", { ...none, pinned: OLD })).actions), [
    "pin",
  ]);
});

// ---- removed projects -------------------------------------------------------------------------

test("a removed project with live sessions gets only a stop marked removed", () => {
  const inv = [{ name: "gone", location: "/fleet/gone", harness }];
  const body = plan([], [], inv, [actual("gone", { pinned: OLD, checkedOut: undefined, dirty: "x" })]);
  assert.deepEqual(body.errors, []);
  assert.deepEqual(body.actions, [
    { project: "gone", kind: "stop", reason: "removed from fleet.toml; its files are kept", removed: true },
  ]);
});

test("a removed project without live sessions, or unobserved, gets nothing", () => {
  const inv = [
    { name: "quiet", location: "/fleet/quiet", harness },
    { name: "unseen", location: "/fleet/unseen", harness },
  ];
  assert.deepEqual(plan([], [], inv, [actual("quiet", { live: [] })]), { actions: [], errors: [] });
});

test("inventory entries still in the fleet are planned as desired, not as removed", () => {
  const inv = [{ name: "p", location: "/fleet/p", harness }];
  const body = plan([desired("p")], [actual("p")], inv, [actual("p")]);
  assert.deepEqual(body, { actions: [], errors: [] });
});

test("a duplicated inventory entry stops once", () => {
  const inv = [1, 2].map(() => ({ name: "gone", location: "/fleet/gone", harness }));
  assert.deepEqual(kinds(plan([], [], inv, [actual("gone")]).actions), ["stop:removed"]);
});

// ---- fleet-level properties -------------------------------------------------------------------

test("an error in one project does not stop the others from planning", () => {
  const ds = [desired("a"), desired("b"), desired("c", { enabled: false })];
  const as = [actual("a", { live: [] }), actual("b", { resolved: undefined, resolveError: "nope" }), actual("c")];
  const body = plan(ds, as);
  assert.deepEqual(body.errors, [{ project: "b", message: "nope" }]);
  assert.deepEqual(
    body.actions.map((a) => `${a.project} ${a.kind}`),
    ["a start", "c stop"],
  );
});

test("actions and errors come out sorted by project name, actions in ACTION_ORDER", () => {
  const ds = [desired("zeta"), desired("alpha", { url: "u" }), desired("mid"), desired("bad2"), desired("bad1")];
  const as = [
    actual("zeta", { live: [] }),
    actual("alpha", missing),
    actual("mid", { pinned: OLD, checkedOut: undefined }),
    actual("bad2", { isRepo: false }),
    actual("bad1", { isRepo: false }),
  ];
  const inv = [{ name: "beta", location: "/fleet/beta", harness }];
  const body = plan(ds, as, inv, [actual("beta")]);
  assert.deepEqual(
    body.actions.map((a) => `${a.project} ${a.kind}`),
    ["alpha clone", "beta stop", "mid init", "mid stop", "mid pin", "mid start", "zeta start"],
  );
  assert.deepEqual(
    body.errors.map((e) => e.project),
    ["bad1", "bad2"],
  );
});

test("planFleet does not reorder the caller's array", () => {
  const ds = [desired("b"), desired("a")];
  plan(ds, [actual("a"), actual("b")]);
  assert.deepEqual(
    ds.map((d) => d.name),
    ["b", "a"],
  );
});

test("planProject plans one project on its own", () => {
  const body = planProject(desired("p"), actual("p", { pinned: OLD, live: [] }));
  assert.deepEqual(kinds(body.actions), ["pin", "start"]);
  assert.deepEqual(body.errors, []);
});

test("summarize counts actions per kind and errors", () => {
  const body = plan(
    [desired("a"), desired("b", { url: "u" }), desired("c")],
    [actual("a", { pinned: OLD }), actual("b", missing), actual("c", { isRepo: false })],
  );
  assert.deepEqual(summarize(body), { clone: 1, init: 0, stop: 1, pin: 1, start: 1, errors: 1 });
});

// ---- exact reasons and edge cases (each row kills a mutant `npm run mutate` found alive) ----------

test("an unobserved project is an error naming it, and plans nothing", () => {
  const body = plan([desired("ghost")], []);
  assert.deepEqual(body.actions, []);
  assert.deepEqual(body.errors, [{ project: "ghost", message: "its actual state was not observed" }]);
});

test("no pin when the ref or the pin is unknown; a pin names both commits, 12 digits each", () => {
  for (const over of [{ resolved: undefined }, { pinned: undefined }, { resolved: undefined, pinned: undefined }])
    assert.deepEqual(kinds(one(desired("p"), actual("p", { ...over, checkedOut: OLD })).actions), []);
  const pin = one(desired("p", { enabled: false }), actual("p", { pinned: OLD, checkedOut: OLD, live: [] }));
  assert.deepEqual(pin.actions, [
    {
      project: "p",
      kind: "pin",
      reason: `engine is pinned at ${OLD.slice(0, 12)}; ref v1 is ${NEW.slice(0, 12)}`,
      ref: "v1",
      from: OLD,
      to: NEW,
    },
  ]);
  const drift = one(desired("p", { enabled: false }), actual("p", { checkedOut: OTHER, live: [] }));
  assert.equal(
    drift.actions[0]!.reason,
    `engine has ${OTHER.slice(0, 12)} checked out; it is pinned at ${NEW.slice(0, 12)}`,
  );
});

test("an uninitialized submodule is initialized first, naming its path", () => {
  const body = one(desired("p", { enabled: false }), actual("p", { checkedOut: undefined, live: [] }));
  assert.deepEqual(body.actions[0], { project: "p", kind: "init", reason: "submodule engine is not initialized" });
});
