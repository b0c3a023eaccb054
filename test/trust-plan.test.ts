// Trust (issue 11), invariants 4, 5, 7 and 8 on the planning side, on real repositories: a clone says in
// the plan that more follows and apply names it, a clone fetches the harness submodule and no other, and
// validate rejects two projects that are one repository or whose agents would share tmux session names.
// The planner's own table (it stops what it must whatever else is wrong) is in plan-trust.test.ts.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeProject, makeWorld, type World } from "./support/world.js";
import { dispose, rev } from "./support/apply-world.js";
import { harnessToml } from "../src/sandbox/sandbox.js";

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
