// Safe apply (issue 6): saved plans applied once and refused when stale, one apply at a time, and
// harness faults that fail one project while the others go on. Real git, real (isolated) tmux.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { makeProject, makeWorld, panePid, snapshot, until, type World } from "./support/world.js";
import {
  journalOf,
  lockPath,
  oneLine,
  poBackground,
  processGone,
  rev,
  writeFleetOf,
  dispose,
  gate,
  gated,
  reachedGate,
  type Gate,
} from "./support/apply-world.js";

describe("saved plans: applied once, refused when stale or replayed", () => {
  let w: World;
  let alpha: string;
  before(() => {
    w = makeWorld();
    alpha = makeProject(w, "alpha", "v0.1.0");
    writeFleetOf(w, { alpha: { ref: "v0.2.0" } });
  });
  after(() => dispose(w));

  it("a plan saved on a fresh fleet applies once; applying it again is refused and acts on nothing", () => {
    assert.ok(!existsSync(join(w.root, ".ao-state")), "a fresh fleet: no state yet");
    const plan = w.po(["plan", "--out", "first.json"]);
    assert.equal(plan.code, 0, plan.stderr);
    // plan writes nothing but po's own mirror of the harness, where refs are resolved
    assert.deepEqual(
      readdirSync(join(w.root, ".ao-state")).sort(),
      [".gitignore", "harnesses"],
      "plan writes no state",
    );
    const first = w.po(["apply", "first.json"]);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /converged/);
    assert.deepEqual(w.sessions(), ["alpha-a"]);
    const [snap, pid, journal] = [snapshot(w, alpha), panePid(w, "alpha-a"), journalOf(w).length];
    const again = w.po(["apply", "first.json", "--yes"]);
    assert.equal(again.code, 1);
    assert.match(
      oneLine(again.stderr),
      /first\.json .*was already applied, and a plan is applied only once; run po plan again/,
    );
    assert.equal(snapshot(w, alpha), snap, "no commit, checkout or index change");
    assert.equal(panePid(w, "alpha-a"), pid, "the session was not touched");
    assert.equal(journalOf(w).length, journal, "nothing was journaled: nothing ran");
    assert.match(w.po(["status"]).stdout, /Last apply \(plan [0-9a-f]{8}, .*\) converged: 2 ok, 0 failed, 0 skipped\./);
  });

  it("a plan saved before a session was started by hand is refused as stale, naming the change", () => {
    assert.equal(w.po(["agents", "down", "--dir", alpha]).code, 0);
    assert.equal(w.po(["plan", "--out", "start.json"]).code, 0);
    assert.equal(w.po(["agents", "up", "--dir", alpha]).code, 0);
    const pid = panePid(w, "alpha-a");
    const r = w.po(["apply", "start.json"]);
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /^po: Saved plan is stale: alpha: live \[\] → \[alpha-a\]; run po plan again$/);
    assert.equal(panePid(w, "alpha-a"), pid);
  });

  it("a plan saved before fleet.toml changed is refused", () => {
    assert.equal(w.po(["agents", "down", "--dir", alpha]).code, 0);
    assert.equal(w.po(["plan", "--out", "before-edit.json"]).code, 0);
    writeFileSync(join(w.root, "fleet.toml"), readFileSync(join(w.root, "fleet.toml"), "utf8") + "# an edit\n");
    const r = w.po(["apply", "before-edit.json"]);
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /Saved plan is stale: .*fleet\.toml changed since it was made; run po plan again/);
    assert.deepEqual(w.sessions(), []);
  });

  it("a saved plan whose actions were edited is refused", () => {
    const plan = JSON.parse(w.po(["plan", "--json"]).stdout) as { actions: { kind: string }[] };
    plan.actions[0].kind = "stop";
    writeFileSync(join(w.root, "edited.json"), JSON.stringify(plan));
    const r = w.po(["apply", "edited.json"]);
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /edited\.json: .*\(was the file edited\?\)/);
  });

  it("a malformed or missing plan file is one clear line", () => {
    writeFileSync(join(w.root, "garbage.json"), "this is not json");
    writeFileSync(join(w.root, "other.json"), JSON.stringify({ format: "po-plan/1", id: "x" }));
    const cases: [string, RegExp][] = [
      ["garbage.json", /^po: garbage\.json: not a readable saved plan \(.*JSON.*\); make one with po plan --out FILE$/],
      [
        "other.json",
        /^po: other\.json: not a saved plan of format po-plan\/1: its id or fingerprint is missing; make one/,
      ],
      ["missing.json", /^po: missing\.json: not a readable saved plan \(ENOENT/],
    ];
    for (const [file, want] of cases) {
      const r = w.po(["apply", file]);
      assert.equal(r.code, 1, file);
      assert.match(oneLine(r.stderr), want);
    }
  });
});

describe("one apply at a time", () => {
  let w: World;
  let g: Gate;
  before(() => {
    w = makeWorld();
    g = gate(w, "slow");
    makeProject(w, "slow", "v0.2.0");
    writeFleetOf(w, { slow: { ref: "v0.2.0", harness: "slowh" } }, { slowh: gated(g) });
  });
  after(() => dispose(w));

  it("a second apply fails at once naming the holder; with --lock-timeout one waits and succeeds", async () => {
    const first = poBackground(w, ["apply", "--yes"]);
    await reachedGate(g, "the first apply's harness");
    const second = w.po(["apply", "--yes"]);
    assert.equal(second.code, 1);
    assert.match(
      oneLine(second.stderr),
      new RegExp(
        `another apply holds the lock .*apply\\.lock \\(pid ${first.pid} on .*\\); wait for it to finish, or pass --lock-timeout`,
      ),
    );
    const waiter = poBackground(w, ["apply", "--yes", "--lock-timeout", "60"]);
    const waiting = `po: waiting for another apply to finish (pid ${first.pid} on ${hostname()}, since `;
    await until(() => waiter.output().includes(waiting), 30_000, "the second apply to wait for the lock");
    g.open();
    const [a, b] = [await first.done, await waiter.done];
    assert.equal(a.code, 0, a.stdout + a.stderr);
    assert.equal(b.code, 0, b.stdout + b.stderr);
    // it planned after the first apply ended: had it not waited for the lock, it would start slow too
    assert.match(b.stdout, /No changes/);
    assert.equal(
      b.stderr.split("\n").filter((l) => l.startsWith("po: waiting")).length,
      1,
      "said once whom it waits for",
    );
    assert.ok(b.stderr.startsWith(waiting), b.stderr);
    assert.deepEqual(w.sessions(), ["slow-a"]);
    assert.ok(!existsSync(lockPath(w)), "the lock is released");
  });

  it("a stale lock (its pid is dead) is taken over with a warning", () => {
    w.po(["agents", "down", "--dir", join(w.root, "slow")]);
    writeFleetOf(w, { slow: { ref: "v0.2.0" } });
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    writeFileSync(lockPath(w), JSON.stringify({ pid: dead, host: hostname(), started: "2020-01-01T00:00:00.000Z" }));
    writeFileSync(`${lockPath(w)}.${dead}.new`, "what a process killed mid-write leaves");
    const r = w.po(["apply", "--yes"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `warning: took over a stale apply lock of pid ${dead} \\(started 2020-01-01T00:00:00\\.000Z\\), whose process is gone`,
      ),
    );
    assert.deepEqual(w.sessions(), ["slow-a"]);
    assert.ok(!existsSync(lockPath(w)));
    assert.ok(!existsSync(`${lockPath(w)}.${dead}.new`), "the dead apply's half-written file is cleared away");
  });

  it("a lock whose pid now belongs to a process younger than the lock (pid reused) is stale too", async () => {
    w.po(["agents", "down", "--dir", join(w.root, "slow")]);
    const stranger = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      writeFileSync(
        lockPath(w),
        JSON.stringify({ pid: stranger.pid, host: hostname(), started: "2020-01-01T00:00:00.000Z" }),
      );
      const r = w.po(["apply", "--yes"]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stderr, new RegExp(`took over a stale apply lock of pid ${stranger.pid}`));
      assert.equal(stranger.exitCode, null, "the stranger was left alone");
    } finally {
      stranger.kill();
    }
  });
});

describe("harness faults fail one project while the others go on", () => {
  let w: World;
  let good: string;
  const pids = () => join(w.root, "pids");
  before(() => {
    w = makeWorld();
    good = makeProject(w, "good", "v0.1.0");
    makeProject(w, "broken", "v0.2.0");
    makeProject(w, "hang", "v0.2.0");
    const stuck = makeProject(w, "stuck", "v0.2.0");
    mkdirSync(pids());
    for (const d of [good, stuck]) assert.equal(w.po(["agents", "up", "--dir", d]).code, 0);
    // hang's up records its own pid and a grandchild's that ignores SIGTERM, then waits forever.
    const hangUp = `echo $$ > ${pids()}/up; sh -c 'trap "" TERM; exec sleep 60' & echo $! > ${pids()}/grandchild; wait`;
    writeFleetOf(
      w,
      {
        good: { ref: "v0.2.0" },
        broken: { ref: "v0.2.0", harness: "broken" },
        hang: { ref: "v0.2.0", harness: "hang" },
        stuck: { ref: "v0.2.0", harness: "nostop", enabled: false },
      },
      {
        broken: { up: ["sh", "-c", "echo 'agents.toml of this harness is broken' >&2; exit 3"] },
        hang: { up: ["sh", "-c", hangUp], timeout_s: 1 },
        nostop: { down: ["sh", "-c", "echo 'cannot stop: agent busy' >&2; exit 2"] },
      },
    );
  });
  after(() => dispose(w));

  it("up or down exiting non-zero and up hanging past its timeout fail their projects; another is re-pinned and started", () => {
    const head = rev(w, good);
    const r = w.po(["apply", "--yes"]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /broken: start FAILED \(\d+\.\ds\): harness 'broken' up \(sh -c .*\) failed with exit code 3: agents\.toml of this harness is broken/,
    );
    assert.match(
      r.stdout,
      /hang: start FAILED \(\d+\.\ds\): harness 'hang' up \(sh -c .*\) did not finish within 1 s; its process group was killed/,
    );
    assert.match(r.stderr, /^po: broken: start failed: harness 'broken' up/m);
    assert.match(r.stderr, /^po: hang: start failed: /m);
    // A stop must stop: when down fails, the sessions are stopped by name, and the fault is reported.
    assert.match(r.stdout, /stuck: stop ok/);
    assert.match(
      r.stderr,
      /^po: warning: stuck: harness 'nostop' down \(sh -c .*\) failed with exit code 2: cannot stop: agent busy; stopped its sessions by name: stuck-a$/m,
    );
    assert.equal(rev(w, good, "HEAD~1"), head, "good got its pin commit");
    assert.equal(rev(w, join(good, "engine")), rev(w, w.harnessUrl, "v0.2.0^{commit}"));
    assert.deepEqual(w.sessions(), ["good-a"]);
    for (const f of ["up", "grandchild"]) {
      const pid = Number(readFileSync(join(pids(), f), "utf8"));
      assert.ok(processGone(pid), `hang's ${f} process ${pid} was killed with its group`);
    }
  });
});
