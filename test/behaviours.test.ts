// Behaviours that had no test of their own: harnesses that lie (up starts nothing, down stops
// nothing) and the "not converged" outcome, apply --json, --offline, --no-apply, po help VERB and
// PO_FLEET. Real git, real (isolated) tmux.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeProject, makeWorld, snapshot, writeFleet, type World } from "./support/world.js";
import { dispose, oneLine, rev, writeFleetOf } from "./support/apply-world.js";

const lines = (s: string) => s.split("\n").filter(Boolean);

describe("harnesses that say yes and do nothing", () => {
  let w: World;
  before(() => {
    w = makeWorld();
    makeProject(w, "liar", "v0.1.0");
    makeProject(w, "honest", "v0.1.0");
  });
  after(() => dispose(w));

  it("an up that exits 0 but starts no session fails its project, and the fleet has not converged", () => {
    writeFleetOf(
      w,
      { liar: { ref: "v0.1.0", harness: "noop" }, honest: { ref: "v0.1.0" } },
      { noop: { up: ["true"], timeout_s: 1 } },
    );
    const r = w.po(["apply", "--yes"]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^liar: start FAILED \(\d+\.\ds\): harness up finished but not every session of liar came up \(liar-a not live\): /m,
    );
    assert.match(r.stdout, /^honest: start ok/m);
    assert.match(r.stdout, /^Apply complete: 1 succeeded, 1 failed, 0 skipped\.$/m);
    assert.match(r.stdout, /^The fleet has not converged: Plan: 1 to start\. Run po plan to see why\.$/m);
    assert.deepEqual(
      lines(r.stderr).map((l) => l.split(" (liar-a not live)")[0]),
      ["po: liar: start failed: harness up finished but not every session of liar came up"],
    );
    assert.deepEqual(w.sessions(), ["honest-a"]);
  });

  it("a down that exits 0 but leaves its sessions live: po stops them by name and says so", () => {
    for (const n of ["liar", "honest"]) assert.equal(w.po(["agents", "up", "--dir", join(w.root, n)]).code, 0);
    writeFleetOf(
      w,
      { liar: { ref: "v0.1.0", enabled: false }, honest: { ref: "v0.1.0", harness: "noop", enabled: false } },
      { noop: { down: ["true"], timeout_s: 1 } },
    );
    const r = w.po(["apply", "--yes"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^honest: stop ok/m);
    assert.match(r.stdout, /^liar: stop ok/m);
    assert.deepEqual(lines(r.stderr), [
      "po: warning: honest: harness down left sessions live; stopped its sessions by name: honest-a",
    ]);
    assert.deepEqual(w.sessions(), [], "tmux itself says no session lives on");
  });

  it("apply --json reports each action and the outcome as data, on stdout only", () => {
    for (const n of ["liar", "honest"]) w.po(["agents", "down", "--dir", join(w.root, n)]);
    assert.equal(w.po(["agents", "up", "--dir", join(w.root, "honest")]).code, 0);
    writeFleetOf(w, { liar: { ref: "v0.1.0" }, honest: { ref: "v0.1.0", enabled: false } });
    const r = w.po(["apply", "--yes", "--json"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stderr, "");
    const out = JSON.parse(r.stdout) as {
      plan: { actions: { project: string; kind: string }[] };
      results: { action: { project: string; kind: string }; outcome: string }[];
      converged: boolean;
      interrupted: boolean;
      remaining: unknown[];
      errors: unknown[];
    };
    assert.deepEqual(
      out.plan.actions.map((a) => `${a.project} ${a.kind}`),
      ["honest stop", "liar start"],
    );
    assert.deepEqual(
      out.results.map((x) => `${x.action.project} ${x.action.kind} ${x.outcome}`),
      ["honest stop ok", "liar start ok"],
    );
    assert.deepEqual([out.converged, out.interrupted, out.remaining, out.errors], [true, false, [], []]);
    assert.deepEqual(w.sessions(), ["liar-a"]);
  });
});

describe("the fleet file: PO_FLEET, --offline, --no-apply, po help VERB", () => {
  let w: World;
  let alpha: string;
  before(() => {
    w = makeWorld();
    alpha = makeProject(w, "alpha", "v0.1.0");
    writeFleet(w, { alpha: { ref: "v0.1.0", enabled: false } });
  });
  after(() => dispose(w));

  it("PO_FLEET names the fleet when --fleet is not given; --fleet wins over it", () => {
    const elsewhere = join(w.root, "elsewhere");
    mkdirSync(elsewhere);
    const env = { ...w.env, PO_FLEET: join(w.root, "fleet.toml") };
    const viaEnv = w.po(["list", "--json"], { cwd: elsewhere, env });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.deepEqual(
      (JSON.parse(viaEnv.stdout) as { name: string }[]).map((p) => p.name),
      ["alpha"],
    );
    const missing = w.po(["list", "--fleet", join(elsewhere, "none.toml")], { cwd: elsewhere, env });
    assert.equal(missing.code, 1);
    assert.match(oneLine(missing.stderr), /none\.toml: file not found/);
    const without = w.po(["list"], { cwd: elsewhere });
    assert.equal(without.code, 1, "no PO_FLEET and no fleet.toml here");
    assert.match(oneLine(without.stderr), /^fleet\.toml: file not found \(pass --fleet FILE/);
  });

  it("--offline resolves a branch from what po already has, never fetching upstream", () => {
    const dir = makeProject(w, "follower", "main");
    writeFleet(w, { alpha: { ref: "v0.1.0", enabled: false }, follower: { ref: "main", enabled: false } });
    const old = rev(w, join(dir, "engine"));
    writeFileSync(join(w.harnessUrl, "VERSION"), "moved on\n");
    w.git(w.harnessUrl, "commit", "-qam", "upstream moves on");
    const pins = (args: string[]) => {
      const r = w.po(["plan", "--json", ...args]);
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as { actions: { project: string; kind: string; to?: string }[] }).actions.map(
        (a) => [a.project, a.kind, a.to],
      );
    };
    const moved = rev(w, w.harnessUrl, "main");
    const offline = pins(["--offline"]);
    assert.ok(!offline.some((a) => a[2] === moved), `offline, main is not yet ${moved}: ${JSON.stringify(offline)}`);
    assert.ok(old !== moved);
    assert.deepEqual(pins([]), [["follower", "pin", moved]]);
  });

  it("update --no-apply edits only fleet.toml, exit 0", () => {
    writeFleet(w, { alpha: { ref: "v0.1.0", enabled: false } });
    const before = readFileSync(join(w.root, "fleet.toml"), "utf8");
    const snap = snapshot(w, alpha);
    const r = w.po(["update", "alpha", "v0.2.0", "--no-apply"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(join(w.root, "fleet.toml"), "utf8"), before.replace('ref = "v0.1.0"', 'ref = "v0.2.0"'));
    assert.equal(snapshot(w, alpha), snap, "the project is not touched");
    assert.deepEqual(w.sessions(), []);
    assert.match(w.po(["plan"]).stdout, /alpha {2}~ pin h v0\.1\.0 → v0\.2\.0/);
  });

  it("po help VERB prints that verb's help; an unknown one is one clear line", () => {
    for (const verb of ["update", "plan", "apply"]) {
      const help = w.po(["help", verb]);
      assert.equal(help.code, 0, help.stderr);
      assert.equal(help.stdout, w.po([verb, "--help"]).stdout);
      assert.match(help.stdout, new RegExp(`^Usage: po ${verb} `));
    }
    const bad = w.po(["help", "updte"]);
    assert.equal(bad.code, 1);
    assert.equal(oneLine(bad.stderr), "po: unknown verb 'updte' (did you mean 'update'?); po --help lists them");
    assert.equal(bad.stdout, "");
  });
});
