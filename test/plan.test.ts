// Unit tests of the pure planner: plain objects in, exact plans out (the product table, reasons,
// errors; plan-more.test.ts has the rest).

import { test } from "node:test";
import assert from "node:assert/strict";
import type { ActualProject } from "../reconcile/model.js";
import { actual, desired, kinds, missing, NEW, OLD, one, plan } from "./support/plan-fixtures.js";

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
