// Safe apply (issue 6): saved plans applied once and refused when stale, one apply at a time,
// faults that fail one project while the others go on, Ctrl-C and kill -9. Real git, real
// (isolated) tmux; every process a test starts is waited for or proven gone.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, uptime } from "node:os";
import { join } from "node:path";
import {
  jsonIfPresent,
  makeProject,
  makeWorld,
  panePid,
  poInPane,
  screen as screenOf,
  snapshot,
  until,
  type World,
} from "./support/world.js";
import {
  journalOf,
  lockPath,
  oneLine,
  poBackground,
  processGone,
  rev,
  writeFleetOf,
  dispose,
  conflictingBranches,
  gate,
  type Gate,
} from "./support/apply-world.js";

/** A harness whose up (or down) waits at `g` until the test opens it. */
const GATED = (g: Gate, verb: "up" | "down" = "up") => ({
  [verb]: ["sh", "-c", `${g.wait}; exec node engine/harness.mjs ${verb}`],
});
const reached = (g: Gate, what: string) => until(() => existsSync(g.reached), 30_000, `${what} to reach its gate`);

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
    writeFleetOf(w, { slow: { ref: "v0.2.0", harness: "slowh" } }, { slowh: GATED(g) });
  });
  after(() => dispose(w));

  it("a second apply fails at once naming the holder; with --lock-timeout one waits and succeeds", async () => {
    const first = poBackground(w, ["apply", "--yes"]);
    await reached(g, "the first apply's harness");
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

describe("pin faults: rolled back or refused, the operator's files untouched", () => {
  let w: World;
  const dirs: Record<string, string> = {};
  let newCommit: string;
  before(() => {
    w = makeWorld();
    for (const n of ["hooky", "far", "dirty", "near"]) dirs[n] = makeProject(w, n, "v0.1.0");
    // A harness commit that no project has fetched, and a second harness whose url is gone.
    w.git(w.harnessUrl, "checkout", "-qb", "next");
    writeFileSync(join(w.harnessUrl, "VERSION"), "0.9.0\n");
    w.git(w.harnessUrl, "commit", "-qam", "next");
    newCommit = rev(w, w.harnessUrl);
    w.git(w.harnessUrl, "checkout", "-q", "main");
    writeFileSync(
      join(dirs.hooky, ".git", "hooks", "pre-commit"),
      "#!/bin/sh\necho 'pre-commit: commits are frozen today' >&2\nexit 1\n",
      { mode: 0o755 },
    );
    writeFileSync(join(dirs.dirty, "engine", "VERSION"), "my local edit\n");
    writeFileSync(join(dirs.dirty, "engine", "notes.txt"), "untracked work\n");
    for (const n of ["hooky", "far"]) assert.equal(w.po(["agents", "up", "--dir", dirs[n]]).code, 0);
    writeFleetOf(
      w,
      {
        hooky: { ref: "v0.2.0" },
        far: { ref: newCommit, harness: "h2" },
        dirty: { ref: "v0.2.0", enabled: false },
        near: { ref: "v0.2.0", enabled: false },
      },
      { h2: { url: join(w.root, "no-such-harness") } },
    );
  });
  after(() => dispose(w));

  it("each fault ends in a clear line for its project; the clean project is re-pinned", () => {
    const snaps = Object.fromEntries(["far", "dirty"].map((n) => [n, snapshot(w, dirs[n])]));
    const hooky = {
      head: rev(w, dirs.hooky),
      engine: rev(w, join(dirs.hooky, "engine")),
      stage: w.git(dirs.hooky, "ls-files", "--stage"),
    };
    const farPid = panePid(w, "far-a");
    const r = w.po(["apply", "--yes"]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    // A failing commit hook: the pin is rolled back and the agents run again on the old harness.
    assert.match(
      r.stdout,
      /hooky: pin FAILED .*: pin of hooky failed and was rolled back \(gitlink unstaged, engine back on [0-9a-f]{7}\): git commit of the pin in .*hooky failed: pre-commit: commits are frozen today; its agents were started again on the old harness/,
    );
    assert.equal(rev(w, dirs.hooky), hooky.head, "HEAD unchanged");
    assert.equal(w.git(dirs.hooky, "ls-files", "--stage"), hooky.stage, "gitlink not staged");
    assert.equal(w.git(dirs.hooky, "status", "--porcelain"), "");
    assert.equal(rev(w, join(dirs.hooky, "engine")), hooky.engine, "submodule back on its old commit");
    // A harness that cannot be reached: its ref is a plan error, so nothing acts on far.
    assert.match(r.stdout, /^far +! error: cannot reach harness 'h2' at .*no-such-harness/m);
    assert.equal(snapshot(w, dirs.far), snaps.far);
    assert.equal(panePid(w, "far-a"), farPid, "far's agent kept running");
    // Local changes in the engine: the pin is refused and the edit survives byte for byte.
    assert.match(
      r.stdout,
      /dirty {2}! error: engine has local changes \(2 changed or untracked files: VERSION, notes\.txt\); commit or discard them/,
    );
    assert.equal(snapshot(w, dirs.dirty), snaps.dirty);
    assert.equal(readFileSync(join(dirs.dirty, "engine", "VERSION"), "utf8"), "my local edit\n");
    assert.equal(readFileSync(join(dirs.dirty, "engine", "notes.txt"), "utf8"), "untracked work\n");
    // The clean project goes on.
    assert.match(r.stdout, /near: pin ok/);
    assert.equal(rev(w, join(dirs.near, "engine")), rev(w, w.harnessUrl, "v0.2.0^{commit}"));
    assert.deepEqual(w.sessions(), ["far-a", "hooky-a"]);
  });

  it("a stale index.lock is waited for, then reported, never removed", () => {
    writeFileSync(join(dirs.hooky, ".git", "hooks", "pre-commit"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const lock = join(dirs.hooky, ".git", "index.lock");
    writeFileSync(lock, "");
    const r = w.po(["apply", "--yes", "--target", "hooky"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /hooky: stop FAILED .*index\.lock exists \(since .*\): a git command is running in .*hooky, or one was killed; if none is running, remove that file and apply again \(nothing was changed\)/,
    );
    assert.ok(existsSync(lock), "po never removes git's lock");
    assert.deepEqual(w.sessions(), ["far-a", "hooky-a"]);
  });

  it("an index.lock from before the machine booted has no owner: it is removed with a warning, and the pin goes ahead", () => {
    const lock = join(dirs.hooky, ".git", "index.lock");
    const beforeBoot = (Date.now() - uptime() * 1000 - 3_600_000) / 1000;
    utimesSync(lock, beforeBoot, beforeBoot);
    const r = w.po(["apply", "--yes", "--target", "hooky"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /warning: removed .*hooky\/\.git\/index\.lock, left by a git that ran before this machine restarted/,
    );
    assert.equal(rev(w, join(dirs.hooky, "engine")), rev(w, w.harnessUrl, "v0.2.0^{commit}"));
    assert.equal(w.git(dirs.hooky, "status", "--porcelain"), "");
  });
});

describe("a project mid-merge, mid-rebase or on a detached HEAD is not pinned", () => {
  let w: World;
  const dirs: Record<string, string> = {};
  const conflict = (dir: string) => conflictingBranches(w, dir);
  const fails = (dir: string, ...args: string[]) => assert.throws(() => w.git(dir, ...args));
  before(() => {
    w = makeWorld();
    for (const n of ["merging", "rebasing", "detached"]) dirs[n] = makeProject(w, n, "v0.1.0");
    conflict(dirs.merging);
    fails(dirs.merging, "merge", "side");
    conflict(dirs.rebasing);
    w.git(dirs.rebasing, "checkout", "-q", "side");
    fails(dirs.rebasing, "rebase", "main");
    w.git(dirs.detached, "checkout", "-q", "--detach");
    writeFleetOf(w, {
      merging: { ref: "v0.2.0", enabled: false },
      rebasing: { ref: "v0.2.0", enabled: false },
      detached: { ref: "v0.2.0", enabled: false },
    });
  });
  after(() => dispose(w));

  it("refuses each with a clear message and changes nothing", () => {
    const snaps = Object.fromEntries(Object.entries(dirs).map(([n, d]) => [n, snapshot(w, d)]));
    const r = w.po(["apply", "--yes"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /merging {3}! error: cannot commit a new pin of engine: a merge is in progress; finish or abort it first/,
    );
    assert.match(
      r.stdout,
      /rebasing {2}! error: cannot commit a new pin of engine: a rebase is in progress; finish or abort it first/,
    );
    assert.match(
      r.stdout,
      /detached {2}! error: cannot commit a new pin of engine: HEAD is detached; check out a branch first/,
    );
    for (const [n, d] of Object.entries(dirs)) assert.equal(snapshot(w, d), snaps[n], `${n} unchanged`);
  });
});

describe("no tmux server at all", () => {
  let w: World;
  before(() => {
    w = makeWorld();
    makeProject(w, "lone", "v0.2.0");
    writeFleetOf(w, { lone: { ref: "v0.2.0" } });
  });
  after(() => dispose(w));

  it("plan and status work, and start no server", () => {
    assert.notEqual(w.tmux("list-sessions").code, 0, "no server to begin with");
    const plan = w.po(["plan", "--detailed-exitcode"]);
    assert.equal(plan.code, 2, plan.stderr);
    assert.match(plan.stdout, /lone {2}\+ start \(stopped: 0\/1 sessions live\)/);
    const status = w.po(["status"]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /lone .* 0\/1 +drift \(start\)/);
    assert.match(w.tmux("list-sessions").stderr, /no server running|error connecting/);
  });
});

describe("Ctrl-C and kill -9 during apply", () => {
  let w: World;
  let g: Gate;
  const gatedFleet = () =>
    writeFleetOf(
      w,
      { s1: { ref: "v0.2.0", harness: "slowh" }, s2: { ref: "v0.2.0", harness: "slowh" } },
      { slowh: GATED(g) },
    );
  before(() => {
    w = makeWorld();
    g = gate(w, "s");
    for (const n of ["s1", "s2"]) makeProject(w, n, "v0.2.0");
    gatedFleet();
  });
  after(() => dispose(w));

  it("Ctrl-C: the running action finishes, no new one starts, the lock is released, a summary, exit 130", async () => {
    const apply = poBackground(w, ["apply", "--yes", "--parallelism", "1"]);
    await reached(g, "s1's start");
    process.kill(apply.pid, "SIGINT");
    await until(() => apply.output().includes("interrupted: finishing"), 15_000, "the interrupt to be heard");
    g.open();
    const r = await apply.done;
    assert.equal(r.code, 130, r.stdout + r.stderr);
    assert.match(r.stderr, /interrupted: finishing the running actions, starting no new ones/);
    assert.match(r.stdout, /s1: start ok/);
    assert.match(r.stdout, /s2: start skipped/);
    assert.match(r.stdout, /Apply interrupted: 1 succeeded, 0 failed, 1 skipped\./);
    assert.deepEqual(w.sessions(), ["s1-a"]);
    assert.ok(!existsSync(lockPath(w)), "the lock is released");
    const j = journalOf(w).map((l) => [l.event, l.project, l.action, l.outcome].filter(Boolean).join(" "));
    assert.deepEqual(j, [
      "apply-start",
      "start s1 start",
      "end s1 start ok",
      "end s2 start skipped",
      "apply-end interrupted",
    ]);
    const s = w.po(["status"]);
    assert.match(s.stdout, /Last apply \(plan [0-9a-f]{8}, .*\) interrupted: 1 ok, 0 failed, 1 skipped\./);
  });

  it("Ctrl-C twice: the running harness is stopped too (its process group), exit 130", async () => {
    assert.equal(w.po(["agents", "down", "--dir", join(w.root, "s1")]).code, 0);
    writeFleetOf(
      w,
      { s1: { ref: "v0.2.0", harness: "forever" } },
      { forever: { up: ["sh", "-c", `echo $$ > ${join(w.root, "forever.pid")}; exec sleep 60`] } },
    );
    const apply = poBackground(w, ["apply", "--yes"]);
    await until(() => existsSync(join(w.root, "forever.pid")), 15_000, "the harness to run");
    process.kill(apply.pid, "SIGINT");
    await until(
      () => apply.output().includes("interrupted: finishing the running actions"),
      5000,
      "the first interrupt to be heard",
    );
    process.kill(apply.pid, "SIGINT");
    const r = await apply.done;
    assert.equal(r.code, 130, r.stdout + r.stderr);
    assert.match(r.stderr, /interrupted again: stopping the running harness processes/);
    assert.match(r.stdout, /s1: start FAILED .*harness 'forever' up \(sh -c .*\) was stopped: interrupted twice/);
    assert.ok(processGone(Number(readFileSync(join(w.root, "forever.pid"), "utf8"))), "the harness process is gone");
    assert.ok(!existsSync(lockPath(w)));
    gatedFleet();
  });

  it("kill -9 mid-run: status says so, the next apply takes the stale lock over and converges", async () => {
    w.po(["agents", "down", "--dir", join(w.root, "s1")]);
    g.close();
    const earlier = journalOf(w).length;
    const apply = poBackground(w, ["apply", "--yes"]);
    // both harness processes started and recorded in the lock (they then wait at the gate)
    const tracked = () => jsonIfPresent<{ children?: unknown[] }>(lockPath(w))?.children?.length ?? 0;
    await until(
      () =>
        journalOf(w)
          .slice(earlier)
          .filter((l) => l.event === "start").length === 2 && tracked() === 2,
      15_000,
      "both actions to start, their harness process groups recorded in the lock",
    );
    process.kill(apply.pid, "SIGKILL");
    assert.equal((await apply.done).signal, "SIGKILL");
    assert.ok(existsSync(lockPath(w)), "a killed apply leaves its lock");
    assert.match(
      w.po(["status"]).stdout,
      /Last apply .* did not finish \(its process was killed\): 0 ok, 0 failed, 0 skipped, 2 interrupted before finishing\./,
    );
    // The killed apply's harness processes still wait at the gate: the next apply must wait for them.
    const nextRun = poBackground(w, ["apply", "--yes"]);
    await until(
      () => /waiting for the harness process groups .* that the killed apply left running/.test(nextRun.output()),
      30_000,
      "the next apply to wait for the killed apply's harness processes",
    );
    g.open();
    const next = await nextRun.done;
    assert.equal(next.code, 0, next.stdout + next.stderr);
    assert.match(next.stderr, new RegExp(`took over a stale apply lock of pid ${apply.pid}`));
    // The killed apply's harness processes finished the starts: nothing is left to do.
    assert.match(next.stdout, /No changes/);
    assert.equal(w.po(["plan", "--detailed-exitcode"]).code, 0, "the next plan is empty");
    assert.deepEqual(w.sessions(), ["s1-a", "s2-a"]);
  });
});

describe("kill -9 while the harness runs, then the desired state flips", () => {
  let w: World;
  let dir: string;
  let g: Gate;
  let slowDown: ReturnType<typeof GATED>;
  before(() => {
    w = makeWorld();
    g = gate(w, "down");
    slowDown = GATED(g, "down");
    dir = makeProject(w, "flip", "v0.2.0");
    assert.equal(w.po(["agents", "up", "--dir", dir]).code, 0);
    writeFleetOf(w, { flip: { ref: "v0.2.0", harness: "slowdown", enabled: false } }, { slowdown: slowDown });
  });
  after(() => dispose(w));

  it("the next apply waits for the killed apply's harness before it plans, and converges", async () => {
    const apply = poBackground(w, ["apply", "--yes"]);
    await reached(g, "the harness down");
    await until(
      () => (JSON.parse(readFileSync(lockPath(w), "utf8")) as { children?: unknown[] }).children?.length === 1,
      5000,
      "the harness to be recorded in the lock",
    );
    process.kill(apply.pid, "SIGKILL");
    await apply.done;
    const { children } = JSON.parse(readFileSync(lockPath(w), "utf8")) as { children: { pgid: number }[] };
    writeFleetOf(w, { flip: { ref: "v0.2.0", harness: "slowdown", enabled: true } }, { slowdown: slowDown });
    const nextRun = poBackground(w, ["apply", "--yes"]);
    const waiting = `waiting for the harness process group ${children[0].pgid} that the killed apply left running`;
    await until(() => nextRun.output().includes(waiting), 30_000, "the next apply to wait for the killed harness");
    assert.ok(!processGone(children[0].pgid), "the killed apply's harness still runs while the next one waits");
    g.open();
    const next = await nextRun.done;
    assert.equal(next.code, 0, next.stdout + next.stderr);
    assert.ok(processGone(children[0].pgid), "the killed apply's harness had finished before the plan was made");
    assert.match(next.stdout, /flip {2}\+ start/);
    assert.deepEqual(w.sessions(), ["flip-a"]);
    assert.equal(w.po(["plan", "--detailed-exitcode"]).code, 0);
  });
});

describe("at a terminal: Ctrl-C at the question, and a repository that changed while it was asked", () => {
  let w: World;
  let dir: string;
  before(() => {
    w = makeWorld();
    dir = makeProject(w, "alpha", "v0.1.0");
    writeFleetOf(w, { alpha: { ref: "v0.2.0", enabled: false } });
  });
  after(() => dispose(w));

  const pane = (name: string, args: string[]) => poInPane(w, name, args);
  const screen = (name: string) => screenOf(w, name);
  const question = (name: string) =>
    until(() => screen(name).includes("Only 'yes' will be accepted"), 15_000, "the question");

  it("Ctrl-C at the question: nothing changed, the lock released, exit 130", async () => {
    const snap = snapshot(w, dir);
    pane("ctrlc", ["apply"]);
    await question("ctrlc");
    w.tmux("send-keys", "-t", "=ctrlc:", "C-c");
    await until(() => /\[exit \d+\]/.test(screen("ctrlc")), 15_000, "apply to end");
    assert.match(screen("ctrlc"), /nothing was changed[\s\S]*\[exit 130\]/);
    assert.ok(!existsSync(lockPath(w)), "the lock is released");
    assert.equal(snapshot(w, dir), snap);
    assert.deepEqual(journalOf(w), []);
    w.tmux("kill-session", "-t", "=ctrlc");
  });

  it("a merge started while apply waited for yes: the pin is refused at the last moment, nothing changed", async () => {
    pane("late", ["apply"]);
    await question("late");
    conflictingBranches(w, dir);
    assert.throws(() => w.git(dir, "merge", "side"));
    const snap = snapshot(w, dir);
    w.tmux("send-keys", "-t", "=late:", "yes", "Enter");
    await until(() => /\[exit \d+\]/.test(screen("late")), 30_000, "apply to end");
    assert.match(
      screen("late").replace(/\n/g, ""),
      /alpha: pin FAILED .*cannot commit a new pin of engine in .*alpha: a merge is in progress; finish or abort it first \(nothing was changed\)/,
    );
    assert.match(screen("late"), /\[exit 1\]/);
    assert.equal(snapshot(w, dir), snap, "the merge in progress is untouched");
    w.tmux("kill-session", "-t", "=late");
  });
});
