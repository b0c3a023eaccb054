// Harness upgrades on a fleet of 4 running projects: po outdated, a bad release stopped after its
// first wave and reverted by new commits, a good release in waves behind a health gate, the downgrade
// guard and [rollout] defaults. A real harness (tmux sessions) whose bad release's agents run until
// the test releases them, so the health gate sees them die.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI, until, type World } from "./support/world.js";
import { makeRolloutWorld, type RolloutWorld } from "./support/rollout-world.js";

const P = ["p1", "p2", "p3", "p4"];

describe("rollouts", () => {
  let r: RolloutWorld;
  let w: World;
  let H: string;
  let fleet: string;
  before(() => {
    r = makeRolloutWorld(P);
    ({ w, H, fleet } = r);
  });
  after(() => r?.w.cleanup());
  const sha = (dir: string, rev: string) => r.sha(dir, rev);
  const pin = (p: string) => r.pin(p);
  const created = (p: string) => r.created(p);
  const release = (v: string, tag: string[]) => r.release(v, tag);

  it("po outdated names the newest release, the pinned one and how far behind, and exits 2", () => {
    for (const extra of [[], ["--offline"]]) {
      const r = w.po(["outdated", "--json", ...extra]);
      assert.equal(r.code, 2, r.stderr);
      const rows = JSON.parse(r.stdout).projects;
      assert.deepEqual(
        rows.map((x: Record<string, unknown>) => [x.project, x.pinnedTag, x.newest, x.behind, x.outdated]),
        P.map((p) => [p, "v0.1.0", "v0.2.0", 1, true]),
      );
    }
    const text = w.po(["outdated", "p2"]);
    assert.equal(text.code, 2);
    assert.match(text.stdout, /^p2 +rh +v0\.1\.0 +v0\.1\.0 +v0\.2\.0 +1 +outdated$/m);
    assert.doesNotMatch(text.stdout, /^p1 /m);
  });

  it("a bad release in waves of 2 behind a gate: the first wave reverted by new commits, the rest held", async () => {
    release("0.3.0", ["v0.3.0"]);
    const before = new Map(P.map((p) => [p, { head: sha(join(w.root, p), "HEAD"), created: created(p) }]));
    const args = ["update", "--all", "v0.3.0", "--yes", "--wave", "2", "--settle", "10", "--max-failures", "1"];
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: w.root,
      env: w.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const exit = new Promise<number>((r) => child.on("close", (code) => r(code ?? -1)));
    // The bad agents of the first wave run until released: released once po saw them start, they
    // end inside the health gate.
    await until(
      () => existsSync(join(w.root, "started-p1")) && existsSync(join(w.root, "started-p2")),
      60_000,
      "the first wave's v0.3.0 agents to start",
    );
    await until(() => /^p1: start ok/m.test(out) && /^p2: start ok/m.test(out), 60_000, "po to see both start");
    writeFileSync(join(w.root, "release"), "");
    assert.equal(await exit, 1, out);
    const v1 = sha(H, "v0.1.0^{commit}");
    const v3 = sha(H, "v0.3.0");
    for (const p of ["p1", "p2"]) {
      const dir = join(w.root, p);
      assert.equal(sha(dir, "HEAD~2"), before.get(p)!.head, `${p}: two new commits, pin and revert`);
      assert.match(w.git(dir, "ls-tree", "HEAD~1", "engine"), new RegExp(v3));
      assert.equal(pin(p), v1);
      assert.equal(sha(join(dir, "engine"), "HEAD"), v1);
      assert.match(w.git(dir, "log", "-1", "--format=%s"), /^Revert harness rh to v0\.1\.0: v0\.3\.0 failed\n$/);
      assert.equal(w.git(dir, "status", "--porcelain"), "");
      assert.match(out, new RegExp(`^${p}: REVERTED: failed its health gate: session ${p}-main was down`, "m"));
    }
    assert.ok(w.sessions().includes("p1-main") && w.sessions().includes("p2-main"), "reverted agents run");
    for (const p of ["p3", "p4"]) {
      assert.equal(sha(join(w.root, p), "HEAD"), before.get(p)!.head, `${p} held`);
      assert.equal(created(p), before.get(p)!.created, `${p}'s session untouched`);
      assert.ok(!existsSync(join(w.root, `started-${p}`)));
    }
    assert.match(out, /^held \(no further wave started, unchanged\): p3, p4$/m);
    assert.equal(
      (readFileSync(fleet, "utf8").match(/^ref = "v0\.3\.0"$/gm) ?? []).length,
      4,
      "fleet.toml is the operator's",
    );
    const journal = readFileSync(join(w.root, ".ao-state", "journal.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean);
    const steps = journal.map((l) => JSON.parse(l)).filter((l) => l.event === "revert" && l.project === "p1");
    assert.deepEqual(
      steps.map((l) => [l.step, l.outcome, l.ref, l.to]),
      ["stop", "pin", "start", "health"].map((s) => [s, "ok", "v0.1.0", v1]),
    );
    assert.equal(w.po(["plan", "--detailed-exitcode"]).code, 2, "the wanted pin is still planned");
  });

  it("a good release converges in waves, each after the last one's gate; a downgrade is then refused", () => {
    const r = w.po(["update", "--all", "v0.2.0", "--yes", "--wave", "2", "--settle", "2"], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const v2 = sha(H, "v0.2.0");
    for (const p of P) assert.equal(pin(p), v2);
    assert.deepEqual(
      w.sessions(),
      P.map((p) => `${p}-main`),
    );
    const [t1, t2, t3, t4] = P.map(created);
    assert.ok(Math.abs(t1 - t2) <= 1 && Math.abs(t3 - t4) <= 1, `one wave starts together: ${[t1, t2, t3, t4]}`);
    assert.ok(Math.min(t3, t4) - Math.max(t1, t2) >= 2, `the second wave after a 2 s gate: ${[t1, t2, t3, t4]}`);
    const row = JSON.parse(w.po(["outdated", "p1", "--json"]).stdout).projects[0];
    assert.deepEqual([row.pinnedTag, row.newest, row.behind], ["v0.2.0", "v0.3.0", 1]);
    const before = readFileSync(fleet, "utf8");
    const down = w.po(["update", "--all", "v0.1.0", "--yes"]);
    assert.equal(down.code, 1);
    assert.equal(
      down.stderr,
      "po: update: v0.1.0 is a downgrade from v0.2.0, which p1, p2, p3, p4 pin now; pass --allow-downgrade " +
        "to move down anyway (fleet.toml was not changed)\n",
    );
    assert.equal(readFileSync(fleet, "utf8"), before);
  });

  it("[rollout] in fleet.toml gives the defaults, and is validated", () => {
    const text = readFileSync(fleet, "utf8");
    writeFileSync(fleet, `${text}\n[rollout]\nwave = "50%"\nsettle_s = 2\n`);
    const r = w.po(["update", "--all", "--latest", "--pre", "--no-revert", "--settle", "2", "--dry-run"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((r.stdout.match(/^\+ref = "v0\.3\.0"$/gm) ?? []).length, 4, r.stdout);
    const back = w.po(["update", "--all", "v0.1.0", "--allow-downgrade", "--yes"], { timeoutMs: 120_000 });
    assert.equal(back.code, 0, back.stdout + back.stderr);
    const [t1, t2, t3, t4] = P.map(created);
    assert.ok(Math.min(t3, t4) - Math.max(t1, t2) >= 2, `two waves of 50 %: ${[t1, t2, t3, t4]}`);
    writeFileSync(fleet, `${text}\n[rollout]\nwave = "0%"\n`);
    const bad = w.po(["validate"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /rollout\.wave/);
  });
});
