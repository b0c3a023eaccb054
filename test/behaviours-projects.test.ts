// Behaviours that had no test of their own, about projects: status's missing and error states,
// failed clones, create's refusals, validate --deep, and a harness at another path with its own
// session names. Real git, real (isolated) tmux.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeProject, makeWorld, writeFleet, type World } from "./support/world.js";
import { dispose, oneLine, rev } from "./support/apply-world.js";

const lines = (s: string) => s.split("\n").filter(Boolean);
describe("projects that are missing or broken", () => {
  let w: World;
  before(() => {
    w = makeWorld();
    makeProject(w, "fine", "v0.1.0");
    writeFileSync(join(w.root, "afile"), "not a folder\n");
    mkdirSync(join(w.root, "plain"));
  });
  after(() => dispose(w));

  it("status says missing, and error with the reason, per project; the others are unaffected", () => {
    writeFleet(w, {
      fine: { ref: "v0.1.0", enabled: false },
      gone: { ref: "v0.1.0", enabled: false },
      plain: { ref: "v0.1.0", enabled: false },
    });
    const r = w.po(["status", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const rows = (JSON.parse(r.stdout) as { projects: { name: string; state: string; detail: string }[] }).projects;
    const byName = Object.fromEntries(rows.map((p) => [p.name, [p.state, p.detail]]));
    assert.deepEqual(byName.fine, ["in sync", ""]);
    assert.deepEqual(byName.gone, ["missing", `${join(w.root, "gone")} does not exist`]);
    assert.equal(byName.plain![0], "error");
    assert.match(byName.plain![1]!, /plain.*not a git repository/);
  });

  it("a clone from a url that does not exist fails that project only, leaving no folder", () => {
    writeFleet(w, {
      fine: { ref: "v0.1.0" },
      ghost: { ref: "v0.1.0", url: join(w.root, "no-such-repo") },
    });
    const r = w.po(["apply", "--yes"]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^ghost: clone FAILED \(\d+\.\ds\): .*no-such-repo/m);
    assert.match(r.stdout, /^fine: start ok/m);
    assert.deepEqual(w.sessions(), ["fine-a"]);
    assert.throws(() => readFileSync(join(w.root, "ghost", ".git", "HEAD")), "no half-made clone");
  });

  it("a clone whose engine submodule cannot be fetched is reported failed, the clone kept for the operator", () => {
    const src = join(w.root, "src-sub");
    mkdirSync(src);
    w.git(src, "init", "-q");
    w.git(src, "-c", "protocol.file.allow=always", "submodule", "add", "-q", w.harnessUrl, "engine");
    writeFileSync(join(src, "agents.toml"), '[agents.a]\ncommand = ["sleep", "3600"]\n');
    w.git(src, "add", ".");
    w.git(src, "commit", "-qm", "init");
    // the submodule's recorded url now points nowhere
    w.git(src, "config", "-f", ".gitmodules", "submodule.engine.url", join(w.root, "vanished-harness"));
    w.git(src, "commit", "-qam", "harness moved away");
    writeFleet(w, { fine: { ref: "v0.1.0" }, subfail: { ref: "v0.1.0", url: src } });
    const r = w.po(["apply", "--yes"]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    // the clone itself succeeds; the harness submodule it names cannot be fetched: init fails
    assert.match(r.stdout, /^subfail: (clone|init) FAILED .*vanished-harness/m);
    assert.doesNotMatch(r.stdout, /^subfail: (pin|start) ok/m);
    assert.deepEqual(w.sessions(), ["fine-a"]);
  });
});

describe("po create refuses, changing nothing", () => {
  let w: World;
  before(() => {
    w = makeWorld();
    makeProject(w, "taken", "v0.1.0");
    writeFleet(w, { taken: { ref: "v0.1.0" } });
  });
  after(() => dispose(w));

  it("each refusal is one line and leaves no folder and fleet.toml as it was", () => {
    const fleet = readFileSync(join(w.root, "fleet.toml"), "utf8");
    const cases: [string[], string][] = [
      [["create"], "po: create takes one project name; see po create --help"],
      [["create", "a", "b", "--ref", "v0.1.0"], "po: create takes one project name; see po create --help"],
      [
        ["create", "Bad", "--ref", "v0.1.0"],
        "po: create: invalid project name 'Bad': use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit",
      ],
      [["create", "newp"], "po: create: --ref REF is required (a tag, branch or commit of the harness)"],
      [["create", "newp", "--ref", "v1..2"], "po: create: invalid ref 'v1..2': a ref cannot contain '..'"],
      [
        ["create", "taken", "--ref", "v0.1.0", "--register"],
        `po: create: project 'taken' is already in ${join(w.root, "fleet.toml")}`,
      ],
      [
        ["create", "newp", "--ref", "v9.9.9", "--location", join(w.root, "newp")],
        "po: create: unknown ref 'v9.9.9' of the harness; nothing was kept",
      ],
    ];
    for (const [args, want] of cases) {
      const r = w.po(args);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.equal(oneLine(r.stderr), want);
    }
    assert.equal(readFileSync(join(w.root, "fleet.toml"), "utf8"), fleet);
    assert.throws(() => readFileSync(join(w.root, "newp", ".git", "HEAD")), "nothing kept of newp");
  });
});

describe("validate --deep", () => {
  let w: World;
  before(() => {
    w = makeWorld();
    makeProject(w, "good", "v0.1.0");
    const other = makeProject(w, "other", "v0.1.0");
    w.git(other, "config", "-f", ".gitmodules", "submodule.engine.url", "https://example.org/other.git");
    w.git(other, "commit", "-qam", "another harness url");
    const nosub = join(w.root, "nosub");
    mkdirSync(nosub);
    w.git(nosub, "init", "-q");
    writeFileSync(join(nosub, "agents.toml"), "[agents.a]\ncomand = []\n");
    w.git(nosub, "add", ".");
    w.git(nosub, "commit", "-qm", "init");
    mkdirSync(join(w.root, "plain"));
    writeFleet(w, {
      good: { ref: "v0.1.0" },
      other: { ref: "v0.1.0" },
      nosub: { ref: "v0.1.0" },
      plain: { ref: "v0.1.0" },
      absent: { ref: "v0.1.0" },
    });
  });
  after(() => dispose(w));

  it("names each project's problem at its table: no submodule, another url, a bad agents.toml, not a repository", () => {
    const r = w.po(["validate", "--deep", "fleet.toml"]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const at = (name: string) => {
      const text = readFileSync(join(w.root, "fleet.toml"), "utf8").split("\n");
      return text.findIndex((l) => l === `[projects.${name}]`) + 1;
    };
    const f = join(w.root, "fleet.toml");
    assert.deepEqual(lines(r.stderr), [
      `${f}:${at("nosub")}:1: projects.nosub: no submodule at engine/ in .gitmodules; add it with git submodule add ${w.harnessUrl} engine`,
      `${f}:${at("nosub")}:1: projects.nosub: agents.toml: line 1: agents.a: missing required key 'command'`,
      `${f}:${at("nosub")}:1: projects.nosub: agents.toml: line 2: agents.a.comand: unknown key 'comand' (did you mean 'command'?)`,
      `${f}:${at("other")}:1: projects.other: submodule engine/ points at https://example.org/other.git, not the harness url ${w.harnessUrl}`,
      `${f}:${at("plain")}:1: projects.plain: ${join(w.root, "plain")} is not a git repository`,
    ]);
    assert.equal(r.stdout, "");
  });
});

describe("a harness at another path, with its own session names", () => {
  let w: World;
  let dir: string;
  before(() => {
    w = makeWorld();
    dir = join(w.root, "custom");
    mkdirSync(dir);
    w.git(dir, "init", "-q");
    w.git(dir, "-c", "protocol.file.allow=always", "submodule", "add", "-q", w.harnessUrl, "vendor/h");
    w.git(join(dir, "vendor/h"), "checkout", "-q", "v0.1.0");
    writeFileSync(join(dir, "agents.toml"), '[agents.a]\ncommand = ["sleep", "3600"]\n');
    writeFileSync(join(dir, ".gitignore"), ".ao-state/\n");
    w.git(dir, "add", ".");
    w.git(dir, "commit", "-qm", "init");
    writeFileSync(
      join(w.root, "fleet.toml"),
      `version = 1\n[harnesses.v]\nurl = "${w.harnessUrl}"\npath = "vendor/h"\nsession = "crew-{agent}-of-{dir}"\n` +
        `up = ["sh", "-c", "tmux new-session -d -s crew-a-of-custom sleep 3600"]\n` +
        `down = ["sh", "-c", "tmux kill-session -t =crew-a-of-custom"]\n` +
        `[projects.custom]\nlocation = "custom"\nharness = "v"\nref = "v0.2.0"\n`,
    );
  });
  after(() => dispose(w));

  it("plan and apply pin vendor/h (not engine) and expect the sessions the template names", () => {
    const plan = w.po(["plan", "--json"]);
    assert.equal(plan.code, 0, plan.stderr);
    const actions = (JSON.parse(plan.stdout) as { actions: { kind: string }[] }).actions.map((a) => a.kind);
    assert.deepEqual(actions, ["pin", "start"]);
    assert.match(w.po(["plan"]).stdout, /custom {2}\+ start \(stopped: 0\/1 sessions live\)/);
    const head = rev(w, dir);
    const r = w.po(["apply", "--yes"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(rev(w, dir, "HEAD~1"), head);
    assert.equal(w.git(dir, "show", "--name-only", "--format=", "HEAD").trim(), "vendor/h", "only the gitlink");
    assert.equal(rev(w, join(dir, "vendor/h")), rev(w, w.harnessUrl, "v0.2.0^{commit}"));
    assert.deepEqual(w.sessions(), ["crew-a-of-custom"]);
    assert.equal(w.po(["plan", "--detailed-exitcode"]).code, 0, "converged: the template's session is the one seen");
  });
});
