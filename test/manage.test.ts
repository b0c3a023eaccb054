// po create, start, stop, update and validate --deep on real repositories and a real tmux server.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { makeProject, makeWorld, oneLine, type World } from "./support/world.js";
import { harnessToml } from "../src/sandbox/sandbox.js";

const COMMENTED = (w: World) => `#:schema ./schema/fleet.schema.json
# Our fleet: every comment here must survive po's edits.
version = 1

# the one harness
${harnessToml("h", w.harnessUrl)}
[projects.alpha]   # the first project
location = "alpha"
harness = "h"
ref = "v0.1.0"     # pinned for now
enabled = false    # off until needed

# trailing comment
`;

function comments(text: string): string[] {
  return text.match(/#.*$/gm) ?? [];
}

describe("managing projects through fleet.toml", () => {
  let w: World;
  let fleet: string;
  let original: string;
  before(() => {
    w = makeWorld();
    makeProject(w, "alpha", "v0.1.0");
    mkdirSync(join(w.root, "orch"));
    fleet = join(w.root, "orch", "fleet.toml");
    original = COMMENTED(w).replace('location = "alpha"', 'location = "../alpha"');
    writeFileSync(fleet, original);
  });
  after(() => w?.cleanup());
  const po = (...args: string[]) => w.po(args, { cwd: join(w.root, "orch") });

  it("create makes a committed project that knows nothing of the fleet, and --register adds it", () => {
    const r = po("create", "newp", "--ref", "v0.1.0", "--harness", "h", "--location", "../newp", "--register");
    assert.equal(r.code, 0, r.stderr);
    const dir = join(w.root, "newp");
    assert.equal(w.git(dir, "status", "--porcelain").trim(), "", "everything committed");
    assert.equal(w.git(dir, "rev-list", "--count", "HEAD").trim(), "1");
    const tracked = w.git(dir, "ls-files").trim().split("\n").sort();
    assert.deepEqual(tracked, [".gitignore", ".gitmodules", "README.md", "agents.toml", "engine", "prompts/main.md"]);
    assert.match(
      w.git(dir, "ls-tree", "HEAD", "engine"),
      new RegExp(`160000 commit ${w.git(w.harnessUrl, "rev-parse", "v0.1.0^{commit}").trim()}\tengine`),
    );
    for (const f of tracked.filter((f) => f !== "engine")) {
      const text = readFileSync(join(dir, f), "utf8");
      assert.doesNotMatch(text, /fleet\.toml|orchestrat/i, `${f} mentions nothing of the orchestrator`);
    }
    assert.equal(w.po(["validate", join(dir, "agents.toml")]).code, 0);
    const text = readFileSync(fleet, "utf8");
    for (const c of comments(original)) assert.ok(text.includes(c), `kept: ${c}`);
    assert.deepEqual(
      { ...(parse(text) as any).projects.newp },
      { location: "../newp", harness: "h", ref: "v0.1.0", enabled: true },
    );
    assert.equal(po("validate").code, 0);
  });

  it("create refuses a non-empty location and an unknown harness, changing nothing", () => {
    const before = readFileSync(fleet, "utf8");
    const busy = join(w.root, "busy");
    mkdirSync(busy);
    writeFileSync(join(busy, "keep.txt"), "mine");
    let r = po("create", "busy", "--ref", "v0.1.0", "--location", "../busy", "--register");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not empty/);
    assert.equal(readFileSync(join(busy, "keep.txt"), "utf8"), "mine");
    r = po("create", "other", "--ref", "v0.1.0", "--harness", "hh", "--location", "../other");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /harness 'hh' is not declared.*did you mean 'h'/);
    r = po("create", "other", "--ref", "v9", "--location", "../other");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown ref 'v9'/);
    assert.ok(!existsSync(join(w.root, "other")), "a failed create leaves nothing behind");
    assert.equal(readFileSync(fleet, "utf8"), before);
  });

  it("start, update and stop edit fleet.toml (comments kept) and apply that project", () => {
    let r = po("start", "alpha", "--yes");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /-enabled = false {4}# off until needed\n\+enabled = true {4}# off until needed/);
    assert.deepEqual(w.sessions(), ["alpha-a"]);
    r = po("update", "alpha", "v0.2.0", "--yes");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(
      w.git(join(w.root, "alpha", "engine"), "rev-parse", "HEAD").trim(),
      w.git(w.harnessUrl, "rev-parse", "v0.2.0").trim(),
    );
    assert.deepEqual(w.sessions(), ["alpha-a"], "still running after the re-pin");
    r = po("stop", "alpha", "--yes");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(w.sessions(), []);
    const text = readFileSync(fleet, "utf8");
    for (const c of comments(original)) assert.ok(text.includes(c), `kept: ${c}`);
    const alpha = (parse(text) as any).projects.alpha;
    assert.deepEqual([alpha.ref, alpha.enabled], ["v0.2.0", false]);
    assert.equal(po("plan", "--target", "alpha", "--detailed-exitcode").code, 0);
  });

  it("unknown names are refused with a suggestion and fleet.toml is untouched", () => {
    const before = readFileSync(fleet, "utf8");
    for (const verb of [
      ["start", "alpah", "--yes"],
      ["stop", "alpah", "--yes"],
      ["update", "alpah", "v0.1.0", "--yes"],
      ["get", "alpah"],
      ["plan", "--target", "alpah"],
    ]) {
      const r = po(...verb);
      assert.equal(r.code, 1);
      assert.match(oneLine(r.stderr), /unknown project 'alpah' \(did you mean 'alpha'\?\)/);
    }
    const json = po("get", "alpah", "--json");
    assert.equal(json.code, 1);
    assert.match(JSON.parse(json.stdout).error, /did you mean 'alpha'/);
    assert.equal(readFileSync(fleet, "utf8"), before);
  });

  it("update to an invalid ref is refused before fleet.toml is written", () => {
    const before = readFileSync(fleet, "utf8");
    const r = po("update", "alpha", "v1..2", "--no-apply");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /invalid ref 'v1\.\.2'.*not written/);
    assert.equal(readFileSync(fleet, "utf8"), before);
  });

  it("validate --deep passes on a clean fleet and fails when a project tracks a fleet.toml", () => {
    let r = po("validate", "--deep");
    assert.equal(r.code, 0, r.stderr);
    const dir = join(w.root, "newp");
    writeFileSync(join(dir, "fleet.toml"), "version = 1\n");
    w.git(dir, "add", "fleet.toml");
    w.git(dir, "commit", "-qm", "oops");
    r = po("validate", "--deep");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /fleet\.toml:\d+:\d+: projects\.newp: tracks fleet\.toml/);
  });
});
