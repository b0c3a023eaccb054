// Trust (issue 11) in the planner, pure and table-driven: it stops what it must whatever else is
// wrong with a project (a ref that does not resolve, a broken agents.toml, a missing folder), refuses
// a pin that would lose work or leave nested submodules behind, and says exactly why.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ActualProject, DesiredProject } from "../reconcile/model.js";
import { actual as actualOf, desired as desiredOf, NEW, OLD } from "./support/plan-fixtures.js";
import { planProject } from "../reconcile/plan.js";

const desired = (over: Partial<DesiredProject> = {}): DesiredProject => desiredOf("p", over);
const actual = (over: Partial<ActualProject> = {}): ActualProject => actualOf("p", over, ["one"]);
const stop = { project: "p", kind: "stop", reason: "disabled: 1/1 sessions live" };
const orphan = {
  project: "p",
  kind: "stop",
  reason: "its agent left agents.toml; session p-gone is live",
  session: "p-gone",
};

const C = "c".repeat(40);
const pin = {
  project: "p",
  kind: "pin",
  reason: "branch v1 moved: engine is pinned at aaaaaaaaaaaa; v1 is now bbbbbbbbbbbb",
  ref: "v1",
  from: OLD,
  to: NEW,
};

// [case, desired, actual, actions, errors (exactly)]
const cases: [string, Partial<DesiredProject>, Partial<ActualProject>, object[], string[]][] = [
  [
    "disabled, ref does not resolve",
    { enabled: false },
    { resolved: undefined, resolveError: "unknown ref" },
    [stop],
    ["unknown ref"],
  ],
  [
    "disabled, harness unreachable",
    { enabled: false },
    { resolved: undefined, resolveError: "cannot reach" },
    [stop],
    ["cannot reach"],
  ],
  [
    "disabled, agents.toml broken",
    { enabled: false },
    { agentsError: "line 1: bad" },
    [stop],
    ["cannot read its agents: line 1: bad"],
  ],
  [
    "disabled, folder gone, no url",
    { enabled: false },
    { exists: false, isRepo: false },
    [stop],
    ["location /fleet/p does not exist and the project has no url to clone it from; create it (po create) or add url"],
  ],
  [
    "disabled, not a repository",
    { enabled: false },
    { isRepo: false },
    [stop],
    ["location /fleet/p exists but is not a git repository"],
  ],
  ["orphan on a converged project", {}, { orphans: ["p-gone"] }, [orphan], []],
  [
    "orphan beside a broken agents.toml",
    {},
    { agentsError: "bad", orphans: ["p-gone"] },
    [orphan],
    ["cannot read its agents: bad"],
  ],
  ["orphan of a disabled project", { enabled: false }, { orphans: ["p-gone"] }, [stop, orphan], []],
  ["symlinked engine", {}, { harnessBlocked: "engine is a symlink" }, [], ["engine is a symlink"]],
  [
    "unreachable commit, pin needed",
    { enabled: false },
    { pinned: OLD, checkedOut: C, live: [], unreachable: C },
    [],
    [
      "engine has commit cccccccccccc checked out that no branch or tag reaches; checking out another commit would " +
        "lose it: put a branch on it (git -C engine branch NAME), then plan again",
    ],
  ],
  [
    "nested stale, no pin",
    {},
    { nestedStale: "lib on another commit" },
    [],
    [
      "nested submodules of engine are not on the commits it records (lib on another commit); " +
        "run git -C engine submodule update --init --recursive, then plan again",
    ],
  ],
  // what would matter only to a pin is not said when no pin can be planned
  [
    "ref does not resolve, local changes",
    {},
    { resolved: undefined, resolveError: "unknown ref 'v9'", dirty: "1 file changed", live: [] },
    [],
    ["unknown ref 'v9'"],
  ],
  [
    "no submodule, a commit no branch reaches",
    {},
    { pinned: undefined, checkedOut: C, unreachable: C, live: [] },
    [],
    ["there is no submodule at engine in /fleet/p; add it with `git submodule add https://example.test/h.git engine`"],
  ],
  [
    "a branch moved",
    {},
    { pinned: OLD, refIsBranch: true, live: [] },
    [pin, { project: "p", kind: "start", reason: "stopped: 0/1 sessions live" }],
    [],
  ],
  [
    "missing with url: only the clone",
    { url: "u" },
    { exists: false, isRepo: false, live: [] },
    [{ project: "p", kind: "clone", reason: "location /fleet/p does not exist; clone u" }],
    [],
  ],
];
for (const [name, d, a, actions, errors] of cases)
  test(`planner: ${name}`, () => {
    const body = planProject(desired(d), actual(a));
    assert.deepEqual(body.actions, actions);
    assert.deepEqual(
      body.errors.map((e) => e.message),
      errors,
    );
  });

test("planner: nested stale with a pin planned is the pin (it brings them along)", () => {
  const body = planProject(
    desired({ enabled: false }),
    actual({ pinned: OLD, checkedOut: OLD, live: [], nestedStale: "x" }),
  );
  assert.deepEqual(body.errors, []);
  assert.deepEqual(
    body.actions.map((x) => x.kind),
    ["pin"],
  );
});
