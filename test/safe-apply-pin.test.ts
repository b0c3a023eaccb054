// Safe apply (issue 6): pin faults rolled back or refused with the operator's files untouched, projects
// mid-merge or on a detached HEAD left alone, and no tmux server at all. Real git, real (isolated) tmux.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { uptime } from "node:os";
import { join } from "node:path";
import { makeProject, makeWorld, panePid, snapshot, type World } from "./support/world.js";
import { rev, writeFleetOf, dispose, conflictingBranches } from "./support/apply-world.js";

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
    assert.match(r.stdout, /^hooky: start skipped \(0\.0s\): an earlier action of hooky failed$/m, "the skip says why");
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
