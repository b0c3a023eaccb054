// po import and po forget on real repositories and a real tmux server: adopt as-is, let go without stopping.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { makeProject, makeWorld, panePid, type World } from "./support/world.js";
import { harnessToml } from "../src/sandbox/sandbox.js";

const HEADER = (w: World) => `version = 1

# the one harness of this fleet
${harnessToml("h", w.harnessUrl)}`;

type Projects = Record<string, Record<string, unknown>>;
// plain objects: smol-toml's tables have no prototype, which deepStrictEqual would tell apart
const projectsOf = (file: string): Projects =>
  JSON.parse(JSON.stringify((parse(readFileSync(file, "utf8")) as { projects?: Projects }).projects ?? {}));

describe("po import", () => {
  let w: World;
  let fleetDir: string;
  let fleet: string;
  let untagged: string;
  before(() => {
    w = makeWorld();
    const repos = join(w.root, "repos");
    mkdirSync(repos);
    makeProject(w, "repos/one", "v0.1.0", ["main"]);
    makeProject(w, "repos/two", "v0.2.0", ["main", "helper"]);
    untagged = w.git(w.harnessUrl, "rev-parse", "main").trim();
    makeProject(w, "repos/three", untagged, ["main"]);
    mkdirSync(join(repos, "not-a-repo"));
    fleetDir = join(w.root, "fleet");
    mkdirSync(fleetDir);
    fleet = join(fleetDir, "fleet.toml");
    writeFileSync(fleet, HEADER(w));
    for (const s of ["one-main", "two-main"]) assert.equal(w.tmux("new-session", "-d", "-s", s, "sleep 3600").code, 0);
  });
  after(() => w?.cleanup());
  const po = (...args: string[]) => w.po(args, { cwd: fleetDir });

  it("without a terminal and without --yes refuses before writing; --dry-run shows the diff and writes nothing", () => {
    const before = readFileSync(fleet);
    const r = po("import", "--scan", "../repos");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refusing to change fleet\.toml without confirmation: no terminal; pass --yes/);
    const dry = po("import", "--scan", "../repos", "--dry-run", "--detailed-exitcode");
    assert.equal(dry.code, 2, dry.stderr);
    assert.match(dry.stdout, /^\+\[projects\.one\]$/m);
    assert.deepEqual(readFileSync(fleet), before, "fleet.toml keeps its bytes");
  });

  it("--scan adopts every repository as it is: tag or commit, enabled where agents run, and plan has nothing to do", () => {
    const pids = ["one-main", "two-main"].map((s) => panePid(w, s));
    const r = po("import", "--scan", "../repos", "--yes");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /two: note: only 1 of its 2 agents run; imported enabled/);
    assert.doesNotMatch(r.stderr, /not-a-repo/, "a folder that is not a repository is not a candidate of --scan");
    assert.match(readFileSync(fleet, "utf8"), /# the one harness of this fleet/);
    assert.deepEqual(projectsOf(fleet), {
      one: { location: "../repos/one", harness: "h", ref: "v0.1.0", enabled: true },
      three: { location: "../repos/three", harness: "h", ref: untagged, enabled: false },
      two: { location: "../repos/two", harness: "h", ref: "v0.2.0", enabled: true },
    });
    w.tmux("new-session", "-d", "-s", "two-helper", "sleep 3600");
    const plan = po("plan", "--detailed-exitcode");
    assert.equal(plan.code, 0, `${plan.stdout}${plan.stderr}`);
    assert.deepEqual(
      ["one-main", "two-main"].map((s) => panePid(w, s)),
      pids,
      "no agent was restarted",
    );
  });

  it("refuses, one line each, what it cannot adopt, and writes nothing for it", () => {
    const other = join(w.root, "other");
    mkdirSync(other);
    w.git(other, "init", "-q");
    w.git(other, "submodule", "add", "-q", join(w.root, "repos", "one"), "vendor/lib");
    w.git(other, "commit", "-qm", "other");
    symlinkSync(join(w.root, "repos", "one"), join(w.root, "alias"));
    const before = readFileSync(fleet);
    const cases: [string[], RegExp][] = [
      [[other], /no submodule of a declared harness; its submodules: vendor\/lib \(.*repos\/one\)/],
      [[join(w.root, "alias")], /already in fleet\.toml as project 'one'/],
      [[join(w.root, "repos", "not-a-repo")], /not a git repository/],
      [[join(w.root, "nowhere")], /no such folder/],
    ];
    for (const [args, want] of cases) {
      const r = po("import", ...args, "--yes");
      assert.equal(r.code, 1, args.join(" "));
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 2, r.stderr);
      assert.match(lines[0], want);
      assert.equal(lines[1], "po: import: nothing imported; fleet.toml is unchanged");
      assert.deepEqual(readFileSync(fleet), before);
    }
  });

  it("a name already taken is refused with a pointer to --name, which then imports it", () => {
    // "One" is named one, and its agents' sessions (One-main) are its own
    const copy = join(w.root, "elsewhere", "One");
    mkdirSync(join(w.root, "elsewhere"));
    w.git(w.root, "clone", "-q", "--recurse-submodules", join(w.root, "repos", "one"), copy);
    const taken = po("import", copy, "--yes");
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /the name 'one' is taken .*; import it alone with --name NAME/);
    const named = po("import", copy, "--name", "one-copy", "--yes");
    assert.equal(named.code, 0, named.stderr);
    assert.deepEqual(projectsOf(fleet)["one-copy"], {
      location: copy,
      harness: "h",
      ref: "v0.1.0",
      enabled: false,
      url: join(w.root, "repos", "one"),
    });
  });
});

describe("po forget", () => {
  let w: World;
  let fleet: string;
  before(() => {
    w = makeWorld();
    makeProject(w, "alpha", "v0.1.0", ["main"]);
    makeProject(w, "beta", "v0.1.0", ["main"]);
    fleet = join(w.root, "fleet.toml");
    writeFileSync(
      fleet,
      `${HEADER(w)}\n[projects.alpha]\nlocation = "alpha"\nharness = "h"\nref = "v0.1.0"\nenabled = true\n` +
        `\n# beta is the second project\n[projects.beta]\nlocation = "beta"\nharness = "h"\nref = "v0.1.0"\nenabled = true\n`,
    );
    for (const s of ["alpha-main", "beta-main"])
      assert.equal(w.tmux("new-session", "-d", "-s", s, "sleep 3600").code, 0);
  });
  after(() => w?.cleanup());

  it("removes the project from fleet.toml and po's records; the next apply leaves its agent running", () => {
    const apply = w.po(["apply", "--yes"]);
    assert.equal(apply.code, 0, apply.stderr);
    const pid = panePid(w, "alpha-main");
    const before = readFileSync(fleet, "utf8");
    const r = w.po(["forget", "alpha", "--yes"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^forgot alpha: po no longer manages it; its agents and files are left as they are$/m);
    const after = readFileSync(fleet, "utf8");
    assert.equal(
      after,
      before.replace(/\[projects\.alpha\][^[]*?enabled = true\n\n/, ""),
      "exactly alpha's table left",
    );
    const inventory = readFileSync(join(w.root, ".ao-state", "inventory.json"), "utf8");
    assert.doesNotMatch(inventory, /"alpha"/);
    const again = w.po(["apply", "--yes"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(panePid(w, "alpha-main"), pid, "alpha's agent still runs, not restarted");
    const status = w.po(["status"]);
    assert.doesNotMatch(status.stdout, /^alpha\b/m);
  });

  it("an unknown name is refused with a suggestion, and fleet.toml keeps its bytes", () => {
    const before = readFileSync(fleet);
    const r = w.po(["forget", "betta", "--yes"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown project 'betta'.*beta/);
    assert.deepEqual(readFileSync(fleet), before);
  });
});
