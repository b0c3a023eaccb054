// Unit tests of the pure planner: plain objects in, exact plans out.

import { test } from "node:test";
import assert from "node:assert/strict";
import { planFleet, planProject, summarize } from "../reconcile/plan.js";
import type { Action, ActualProject, DesiredProject, InventoryEntry } from "../reconcile/model.js";
import { actual, desired, harness, NEW, OLD, OTHER } from "./support/plan-fixtures.js";

const missing: Partial<ActualProject> = {
  exists: false,
  isRepo: false,
  pinned: undefined,
  checkedOut: undefined,
  resolved: undefined,
};

function plan(ds: DesiredProject[], as: ActualProject[], inv: InventoryEntry[] = [], removed: ActualProject[] = []) {
  return planFleet(ds, byName(as), inv, byName(removed));
}

function byName(as: ActualProject[]): Map<string, ActualProject> {
  return new Map(as.map((a) => [a.name, a]));
}

/** "stop:restart" for the restart around a pin, "stop:removed" for a removed project, else the kind. */
function kinds(actions: Action[]): string[] {
  return actions.map((a) => a.kind + (a.restart ? ":restart" : "") + (a.removed ? ":removed" : ""));
}

function one(d: DesiredProject, a: ActualProject) {
  return plan([d], [a]);
}

// ---- the cartesian product: enabled × sessions × pin × location -------------------------------

type Sessions = "running" | "degraded" | "stopped";
type Pin = "right" | "wrong";
type Location = "present" | "missing";

// Written out by hand, not derived from the planner's rules, so that it can disagree with them.
const EXPECTED: Record<string, string[]> = {
  "enabled running right present": [],
  "enabled running wrong present": ["stop:restart", "pin", "start:restart"],
  "enabled degraded right present": ["start"],
  "enabled degraded wrong present": ["stop:restart", "pin", "start:restart"],
  "enabled stopped right present": ["start"],
  "enabled stopped wrong present": ["pin", "start"],
  "disabled running right present": ["stop"],
  "disabled running wrong present": ["stop", "pin"],
  "disabled degraded right present": ["stop"],
  "disabled degraded wrong present": ["stop", "pin"],
  "disabled stopped right present": [],
  "disabled stopped wrong present": ["pin"],
  "enabled running right missing": ["clone"],
  "enabled running wrong missing": ["clone"],
  "enabled degraded right missing": ["clone"],
  "enabled degraded wrong missing": ["clone"],
  "enabled stopped right missing": ["clone"],
  "enabled stopped wrong missing": ["clone"],
  "disabled running right missing": ["clone"],
  "disabled running wrong missing": ["clone"],
  "disabled degraded right missing": ["clone"],
  "disabled degraded wrong missing": ["clone"],
  "disabled stopped right missing": ["clone"],
  "disabled stopped wrong missing": ["clone"],
};

function rowActual(sessions: Sessions, pin: Pin, location: Location): ActualProject {
  const all = ["p-one", "p-two"];
  const live = sessions === "running" ? all : sessions === "degraded" ? ["p-one"] : [];
  const base = actual("p", { sessions: all, live, pinned: pin === "right" ? NEW : OLD });
  return location === "present" ? base : { ...base, ...missing };
}

const rows: [boolean, Sessions, Pin, Location][] = [];
for (const enabled of [true, false])
  for (const sessions of ["running", "degraded", "stopped"] as const)
    for (const pin of ["right", "wrong"] as const)
      for (const location of ["present", "missing"] as const) rows.push([enabled, sessions, pin, location]);

test("the product table covers every combination exactly once", () => {
  assert.equal(rows.length, 24);
  const keys = rows.map(([e, s, p, l]) => `${e ? "enabled" : "disabled"} ${s} ${p} ${l}`);
  assert.deepEqual(new Set(keys), new Set(Object.keys(EXPECTED)));
});

for (const [enabled, sessions, pin, location] of rows) {
  const key = `${enabled ? "enabled" : "disabled"} ${sessions} ${pin} ${location}`;
  test(`product: ${key}`, () => {
    const d = desired("p", { enabled, url: "https://example.test/p.git" });
    const body = one(d, rowActual(sessions, pin, location));
    assert.deepEqual(body.errors, []);
    assert.deepEqual(kinds(body.actions), EXPECTED[key]);
    for (const a of body.actions) {
      assert.equal(a.project, "p");
      assert.ok(a.reason.length > 0, `${a.kind} has a reason`);
    }
    const p = body.actions.find((a) => a.kind === "pin");
    if (p) assert.deepEqual([p.ref, p.from, p.to], ["v1", OLD, NEW]);
  });
}

// ---- reasons ----------------------------------------------------------------------------------

test("start reasons count the live sessions", () => {
  const stopped = one(desired("p"), actual("p", { live: [] }));
  assert.equal(stopped.actions[0]?.reason, "stopped: 0/2 sessions live");
  const degraded = one(desired("p"), actual("p", { live: ["p-one"] }));
  assert.equal(degraded.actions[0]?.reason, "degraded: 1/2 sessions live");
});

test("missing location with url: clone names the url", () => {
  const body = one(desired("p", { url: "https://example.test/p.git" }), actual("p", missing));
  assert.match(body.actions[0]!.reason, /does not exist.*https:\/\/example\.test\/p\.git/);
});

// ---- errors -----------------------------------------------------------------------------------

test("missing location without url is an error and plans nothing", () => {
  const body = one(desired("p"), actual("p", missing));
  assert.deepEqual(body.actions, []);
  assert.deepEqual(body.errors, [
    {
      project: "p",
      message:
        "location /fleet/p does not exist and the project has no url to clone it from; create it (po create) or add url",
    },
  ]);
});

test("a location that is not a git repository is an error", () => {
  const body = one(desired("p"), actual("p", { isRepo: false, pinned: undefined, checkedOut: undefined }));
  assert.deepEqual(body.actions, []);
  assert.equal(body.errors.length, 1);
  assert.match(body.errors[0]!.message, /\/fleet\/p exists but is not a git repository/);
});

test("a repository without a gitlink at the harness path says how to add the submodule", () => {
  const body = one(
    desired("p", { enabled: false }),
    actual("p", { pinned: undefined, checkedOut: undefined, live: [] }),
  );
  assert.deepEqual(body.actions, []);
  assert.equal(body.errors.length, 1);
  assert.match(body.errors[0]!.message, /no submodule at engine/);
  assert.ok(body.errors[0]!.message.includes("git submodule add https://example.test/h.git engine"));
});

test("an unknown ref is an error carrying the resolver's message", () => {
  const a = actual("p", { resolved: undefined, resolveError: "unknown ref 'v9' of harness h", live: [] });
  const body = one(desired("p", { ref: "v9" }), a);
  assert.deepEqual(body.actions, []);
  assert.deepEqual(body.errors, [{ project: "p", message: "unknown ref 'v9' of harness h" }]);
});

test("an unknown ref without a resolver message still names ref and harness", () => {
  const body = one(desired("p", { ref: "v9" }), actual("p", { resolved: undefined }));
  assert.deepEqual(body.actions, []);
  assert.match(body.errors[0]!.message, /'v9'.*harness h/);
});

test("dirty submodule with a pin needed is an error; the files are not touched", () => {
  const body = one(desired("p"), actual("p", { pinned: OLD, checkedOut: OLD, dirty: "2 modified files" }));
  assert.deepEqual(body.actions, []);
  assert.deepEqual(body.errors, [
    { project: "p", message: "engine has local changes (2 modified files); commit or discard them, then plan again" },
  ]);
});

test("dirty submodule without a pin needed plans normally", () => {
  const body = one(desired("p"), actual("p", { dirty: "1 untracked file", live: [] }));
  assert.deepEqual(body.errors, []);
  assert.deepEqual(kinds(body.actions), ["start"]);
});

test("repoBlocked with a pin needed is an error carrying the reason", () => {
  const body = one(desired("p"), actual("p", { pinned: OLD, checkedOut: OLD, repoBlocked: "a rebase is in progress" }));
  assert.deepEqual(body.actions, []);
  assert.equal(body.errors.length, 1);
  assert.match(body.errors[0]!.message, /a rebase is in progress/);
});

test("repoBlocked without a pin needed plans normally", () => {
  const body = one(desired("p"), actual("p", { repoBlocked: "detached HEAD" }));
  assert.deepEqual(body, { actions: [], errors: [] });
});

test("agentsError is an error for that project", () => {
  const body = one(
    desired("p"),
    actual("p", { agents: [], sessions: [], live: [], agentsError: "agents.toml:3:1: bad" }),
  );
  assert.deepEqual(body.actions, []);
  assert.equal(body.errors.length, 1);
  assert.match(body.errors[0]!.message, /agents\.toml:3:1: bad/);
});

test("several problems of one project are all reported", () => {
  const a = actual("p", { pinned: undefined, agentsError: "bad", resolved: undefined, resolveError: "unknown ref" });
  const body = one(desired("p"), a);
  assert.deepEqual(body.actions, []);
  assert.equal(body.errors.length, 3);
});

test("an unobserved project is an error, not a guess", () => {
  const body = plan([desired("p")], []);
  assert.deepEqual(body.actions, []);
  assert.equal(body.errors.length, 1);
});

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
