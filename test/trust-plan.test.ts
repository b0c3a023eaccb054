// Trust (issue 11), invariants 4, 5, 7 and 8 on the planning side: the planner stops what it must
// whatever else is wrong (table-driven, pure), a clone says in the plan that more follows and apply
// names it, a clone fetches the harness submodule and no other, and validate rejects two projects
// that are one repository or whose agents would share tmux session names.
import { after, before, describe, it, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ActualProject, DesiredProject } from "../reconcile/model.js";
import { actual as actualOf, desired as desiredOf, OLD } from "./support/plan-fixtures.js";
import { planProject } from "../reconcile/plan.js";
import { makeProject, makeWorld, type World } from "./support/world.js";
import { dispose, rev } from "./support/apply-world.js";
import { harnessToml } from "../src/sandbox/sandbox.js";

const desired = (over: Partial<DesiredProject> = {}): DesiredProject => desiredOf("p", over);
const actual = (over: Partial<ActualProject> = {}): ActualProject => actualOf("p", over, ["one"]);
const stop = { project: "p", kind: "stop", reason: "disabled: 1/1 sessions live" };
const orphan = {
  project: "p",
  kind: "stop",
  reason: "its agent left agents.toml; session p-gone is live",
  session: "p-gone",
};

// [case, desired, actual, actions, error pattern or undefined]
const cases: [string, Partial<DesiredProject>, Partial<ActualProject>, object[], RegExp | undefined][] = [
  [
    "disabled, ref does not resolve",
    { enabled: false },
    { resolved: undefined, resolveError: "unknown ref" },
    [stop],
    /unknown ref/,
  ],
  [
    "disabled, harness unreachable",
    { enabled: false },
    { resolved: undefined, resolveError: "cannot reach" },
    [stop],
    /cannot reach/,
  ],
  [
    "disabled, agents.toml broken",
    { enabled: false },
    { agentsError: "line 1: bad" },
    [stop],
    /cannot read its agents/,
  ],
  ["disabled, folder gone, no url", { enabled: false }, { exists: false, isRepo: false }, [stop], /does not exist/],
  ["disabled, not a repository", { enabled: false }, { isRepo: false }, [stop], /not a git repository/],
  ["orphan on a converged project", {}, { orphans: ["p-gone"] }, [orphan], undefined],
  ["orphan beside a broken agents.toml", {}, { agentsError: "bad", orphans: ["p-gone"] }, [orphan], /agents/],
  ["orphan of a disabled project", { enabled: false }, { orphans: ["p-gone"] }, [stop, orphan], undefined],
  ["symlinked engine", {}, { harnessBlocked: "engine is a symlink" }, [], /engine is a symlink/],
  [
    "unreachable commit, pin needed",
    { enabled: false },
    { pinned: OLD, checkedOut: "c".repeat(40), live: [], unreachable: "c".repeat(40) },
    [],
    /cccccccccccc checked out that no branch or tag reaches/,
  ],
  [
    "nested stale, no pin",
    {},
    { nestedStale: "lib on another commit" },
    [],
    /nested submodules of engine are not on the commits it records \(lib on another commit\)/,
  ],
  [
    "missing with url: only the clone",
    { url: "u" },
    { exists: false, isRepo: false, live: [] },
    [{ project: "p", kind: "clone", reason: "location /fleet/p does not exist; clone u" }],
    undefined,
  ],
];
for (const [name, d, a, actions, error] of cases)
  test(`planner: ${name}`, () => {
    const body = planProject(desired(d), actual(a));
    assert.deepEqual(body.actions, actions);
    if (error) assert.match(body.errors.map((e) => e.message).join("; "), error);
    else assert.deepEqual(body.errors, []);
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

describe("a clone says what follows, and fetches the harness submodule and no other", () => {
  let w: World;
  before(() => {
    w = makeWorld();
    const origin = makeProject(w, "origin", "v0.1.0");
    const lib = join(w.root, "lib");
    mkdirSync(lib);
    w.git(lib, "init", "-q");
    w.git(lib, "commit", "-q", "--allow-empty", "-m", "lib");
    w.git(origin, "submodule", "add", "-q", lib, "lib");
    w.git(origin, "commit", "-qm", "a second, local submodule");
    writeFileSync(
      join(w.root, "fleet.toml"),
      `version = 1\n\n${harnessToml("h", w.harnessUrl)}\n[projects.cloned]\nlocation = "cloned"\nharness = "h"\n` +
        `ref = "v0.2.0"\nurl = ${JSON.stringify(origin)}\n`,
    );
  });
  after(() => dispose(w));

  it("plan: one line, clone then pin/start as found; apply names each action it planned again", () => {
    const plan = w.po(["plan"]);
    assert.match(
      plan.stdout,
      /^cloned {2}\+ clone, then pin\/start as found \(location .*cloned does not exist; clone .*origin\)\n\nPlan: 1 to clone\.\n$/,
    );
    const r = w.po(["apply", "--yes"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /cloned: clone ok \([\d.]+s\); planned again: init, pin, start\ncloned: init ok .*\ncloned: pin ok .*\ncloned: start ok/,
    );
    const dir = join(w.root, "cloned");
    assert.equal(rev(w, join(dir, "engine")), rev(w, w.harnessUrl, "v0.2.0^{commit}"));
    // The local submodule was not fetched: file urls are allowed for the harness only.
    assert.match(w.git(dir, "submodule", "status", "--", "lib"), /^-[0-9a-f]{40} lib\n$/);
    assert.deepEqual(w.sessions(), ["cloned-a"]);
  });
});

describe("validate: one project, one repository, one set of session names", () => {
  let w: World;
  before(() => {
    w = makeWorld();
    mkdirSync(join(w.root, "real"));
    symlinkSync(join(w.root, "real"), join(w.root, "alias"));
  });
  after(() => dispose(w));

  const fleet = (projects: Record<string, string>, extraHarness = "") => {
    const body = Object.entries(projects)
      .map(
        ([n, loc]) =>
          `[projects.${n}]\nlocation = "${loc}"\nharness = "${n.startsWith("x") ? "x" : "h"}"\nref = "v1"\n`,
      )
      .join("\n");
    writeFileSync(
      join(w.root, "fleet.toml"),
      `version = 1\n\n${harnessToml("h", w.harnessUrl)}\n${extraHarness}\n${body}`,
    );
    return w.po(["validate"]);
  };

  it("two folders with the same base name collide under {dir}-{agent}", () => {
    const r = fleet({ api: "work/api", api2: "personal/api" });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr + r.stdout,
      /fleet\.toml:\d+:\d+: projects\.api2\.location: its agents would get the same tmux session names as project 'api' \(api-\{agent\}, from .*work\/api and .*personal\/api\)/,
    );
  });

  it("a harness whose template tells them apart is fine", () => {
    const x = `[harnesses.x]\nurl = "u"\nup = ["u"]\ndown = ["d"]\nsession = "personal-{dir}-{agent}"\n`;
    const r = fleet({ api: "work/api", xapi: "personal/api" }, x);
    assert.equal(r.code, 0, r.stderr + r.stdout);
  });

  it("a symlinked alias of a project's folder is the same repository", () => {
    const r = fleet({ one: "real", two: "alias" });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr + r.stdout,
      /projects\.two\.location: same location as project 'one' \(.*alias, through symlinks .*real\): one repository/,
    );
    assert.doesNotMatch(r.stderr + r.stdout, /session names/, "one problem for one mistake");
  });

  it("a project inside another's folder through a symlink is nested", () => {
    const r = fleet({ one: "real", two: "alias/inner" });
    assert.equal(r.code, 1);
    assert.match(r.stderr + r.stdout, /projects\.two\.location: .*alias\/inner is inside project 'one'/);
  });
});
