// Trust (issue 11), invariants 1 and 2: a pin commit records exactly one gitlink of the right commit
// or nothing changes (HEAD, index and the submodule's checkout byte for byte), and nothing the
// operator made is lost: symlinked engines, commits no ref reaches, operations in progress, nested
// submodules, SHA-256 repositories. Real git, real (isolated) tmux.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeProject, makeWorld, type World } from "./support/world.js";
import { conflictingBranches, dispose, rev, writeFleetOf } from "./support/apply-world.js";
import { makeHarnessRepo } from "../src/sandbox/sandbox.js";

/** The bytes a failed pin must leave as they were: index, HEAD, the branch, the engine's HEAD and index. */
function bytes(w: World, dir: string): Record<string, string> {
  const gd = join(dir, ".git");
  const read = (f: string) => (existsSync(f) ? readFileSync(f).toString("base64") : "absent");
  return {
    index: read(join(gd, "index")),
    HEAD: read(join(gd, "HEAD")),
    branch: read(join(gd, "refs", "heads", "main")),
    engineHEAD: read(join(gd, "modules", "engine", "HEAD")),
    engineIndex: read(join(gd, "modules", "engine", "index")),
    engine: rev(w, join(dir, "engine")),
    status: w.git(dir, "status", "--porcelain", "--untracked-files=no"),
  };
}

const hook = (dir: string, body: string) =>
  writeFileSync(join(dir, ".git", "hooks", "pre-commit"), `#!/bin/sh\n${body}\n`, { mode: 0o755 });

describe("a failed pin leaves HEAD, index and engine byte for byte; a pin commit is exactly one gitlink", () => {
  let w: World;
  const dirs: Record<string, string> = {};
  before(() => {
    w = makeWorld();
    for (const n of ["frozen", "sneaky", "linked", "local", "branchy"]) dirs[n] = makeProject(w, n, "v0.1.0");
    hook(dirs.frozen, "echo 'pre-commit: frozen' >&2; exit 1");
    // A hook that adds a file of its own to the commit: the commit would record two changes.
    hook(dirs.sneaky, "echo extra > extra.txt && git add extra.txt");
    // engine/ replaced by a symlink to another checkout of the harness.
    w.git(w.root, "clone", "-q", w.harnessUrl, "other");
    w.git(join(w.root, "other"), "checkout", "-q", "v0.1.0");
    renameSync(join(dirs.linked, "engine"), join(w.root, "linked-engine-aside"));
    symlinkSync(join(w.root, "other"), join(dirs.linked, "engine"));
    // A commit in engine/ that no branch or tag reaches, and one that a branch does.
    w.git(join(dirs.local, "engine"), "commit", "-q", "--allow-empty", "-m", "my experiment");
    w.git(join(dirs.branchy, "engine"), "checkout", "-q", "-b", "work");
    w.git(join(dirs.branchy, "engine"), "commit", "-q", "--allow-empty", "-m", "kept on a branch");
    const all = Object.fromEntries(Object.keys(dirs).map((n) => [n, { ref: "v0.2.0", enabled: false }]));
    writeFleetOf(w, all);
  });
  after(() => dispose(w));

  it("a failing hook and a commit that is not the pin are rolled back to the byte", () => {
    const was = { frozen: bytes(w, dirs.frozen), sneaky: bytes(w, dirs.sneaky) };
    const r = w.po(["apply", "--yes", "--target", "frozen", "--target", "sneaky"]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /frozen: pin FAILED .*rolled back \(gitlink unstaged, engine back on [0-9a-f]{7}\): git commit of the pin in .*frozen failed: pre-commit: frozen/,
    );
    assert.match(
      r.stdout,
      /sneaky: pin FAILED .*rolled back \(commit [0-9a-f]{7} taken back, HEAD on [0-9a-f]{7}, gitlink unstaged, engine back on [0-9a-f]{7}\): the commit is not the pin: it records 2 change\(s\) instead of the one gitlink engine/,
    );
    assert.deepEqual(bytes(w, dirs.frozen), was.frozen);
    assert.deepEqual(bytes(w, dirs.sneaky), was.sneaky);
    assert.equal(w.git(dirs.sneaky, "log", "--format=%s", "-1"), "init sneaky\n");
  });

  it("a symlinked engine/ is a plan error; nothing of the other checkout moves", () => {
    const other = join(w.root, "other");
    const branch = () => readFileSync(join(dirs.linked, ".git", "refs", "heads", "main"), "utf8");
    const was = { head: rev(w, other), project: branch() };
    const plan = w.po(["plan", "--target", "linked"]);
    assert.match(
      plan.stdout,
      /linked {2}! error: engine in .*linked is a symlink \(to .*other\), which git does not take/,
    );
    const r = w.po(["apply", "--yes", "--target", "linked"]);
    assert.equal(r.code, 1);
    assert.equal(rev(w, other), was.head, "the other repository's HEAD did not move");
    assert.equal(branch(), was.project, "no commit in the project");
  });

  it("a commit in engine/ that no branch or tag reaches is refused by name; one a branch reaches is not", () => {
    const mine = rev(w, join(dirs.local, "engine"));
    const was = bytes(w, dirs.local);
    const r = w.po(["apply", "--yes", "--target", "local", "--target", "branchy"]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`local +! error: engine has commit ${mine.slice(0, 12)} checked out that no branch or tag reaches`),
    );
    assert.deepEqual(bytes(w, dirs.local), was);
    assert.match(r.stdout, /branchy: pin ok/);
    assert.equal(w.git(join(dirs.branchy, "engine"), "log", "-1", "--format=%s", "work"), "kept on a branch\n");
  });
});

describe("no pin while the project is in the middle of an operation", () => {
  let w: World;
  let dir: string;
  const fails = (...args: string[]) => assert.throws(() => w.git(dir, ...args));
  before(() => {
    w = makeWorld();
    dir = makeProject(w, "busy", "v0.1.0");
    conflictingBranches(w, dir);
    w.git(dir, "format-patch", "-q", "-1", "side", "-o", join(w.root, "patches"));
    writeFleetOf(w, { busy: { ref: "v0.2.0", enabled: false } });
  });
  after(() => dispose(w));

  const ops: [string, RegExp, () => void, string[]][] = [
    ["merge", /a merge is in progress/, () => fails("merge", "side"), ["merge", "--abort"]],
    ["cherry-pick", /a cherry-pick is in progress/, () => fails("cherry-pick", "side"), ["cherry-pick", "--abort"]],
    [
      "revert",
      /a revert is in progress/,
      () => {
        writeFileSync(join(dir, "notes"), "later\n");
        w.git(dir, "commit", "-qam", "later");
        fails("revert", "--no-edit", "HEAD~1");
      },
      ["revert", "--abort"],
    ],
    ["bisect", /a bisect is in progress/, () => w.git(dir, "bisect", "start"), ["bisect", "reset"]],
    [
      "am",
      /git am is in progress/,
      () => fails("am", ...[join(w.root, "patches", "0001-side.patch")]),
      ["am", "--abort"],
    ],
    [
      "rebase",
      /a rebase is in progress/,
      () => {
        w.git(dir, "checkout", "-q", "side");
        fails("rebase", "main");
      },
      ["rebase", "--abort"],
    ],
  ];
  for (const [name, message, start, abort] of ops)
    it(`${name}: plan says so in one line, apply changes nothing`, () => {
      start();
      const was = bytes(w, dir);
      const plan = w.po(["plan"]);
      assert.match(plan.stdout, new RegExp(`busy {2}! error: cannot commit a new pin of engine: ${message.source}`));
      const r = w.po(["apply", "--yes"]);
      assert.equal(r.code, 1);
      assert.deepEqual(bytes(w, dir), was);
      w.git(dir, ...abort);
      if (name === "rebase") w.git(dir, "checkout", "-q", "main");
    });
});

describe("nested submodules of the harness follow the pin, or the plan says they are stale", () => {
  let w: World;
  let dir: string;
  let nestedAt: Record<string, string>;
  before(() => {
    w = makeWorld();
    // A harness with a submodule of its own (lib), on another commit in v2 than in v1.
    const lib = join(w.root, "lib");
    mkdirSync(lib);
    w.git(lib, "init", "-q");
    const libCommit = (v: string) => {
      writeFileSync(join(lib, "LIB"), `${v}\n`);
      w.git(lib, "add", ".");
      w.git(lib, "commit", "-qm", v);
      return rev(w, lib);
    };
    nestedAt = { n1: libCommit("lib 1") };
    const nh = join(w.root, "nharness");
    w.git(w.root, "clone", "-q", w.harnessUrl, "nharness");
    w.git(nh, "submodule", "add", "-q", lib, "lib");
    w.git(nh, "commit", "-qm", "lib 1");
    w.git(nh, "tag", "n1");
    nestedAt.n2 = libCommit("lib 2");
    w.git(join(nh, "lib"), "pull", "-q", "origin", "main");
    w.git(nh, "commit", "-qam", "lib 2");
    w.git(nh, "tag", "n2");
    dir = join(w.root, "nest");
    mkdirSync(dir);
    w.git(dir, "init", "-q");
    w.git(dir, "submodule", "add", "-q", nh, "engine");
    w.git(join(dir, "engine"), "checkout", "-q", "n1");
    w.git(join(dir, "engine"), "submodule", "update", "-q", "--init", "--recursive");
    writeFileSync(join(dir, "agents.toml"), "");
    w.git(dir, "add", ".");
    w.git(dir, "commit", "-qm", "init");
    writeFleetOf(w, { nest: { ref: "n2", harness: "nh", enabled: false } }, { nh: { url: nh } });
  });
  after(() => dispose(w));

  it("a pin brings the nested submodule to the commit the new harness records; the fleet converges clean", () => {
    const r = w.po(["apply", "--yes"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /converged/);
    assert.equal(rev(w, join(dir, "engine", "lib")), nestedAt.n2);
    assert.equal(w.git(join(dir, "engine"), "status", "--porcelain"), "");
  });

  it("a nested submodule moved by hand is not converged: the plan says it is stale", () => {
    w.git(join(dir, "engine", "lib"), "checkout", "-q", nestedAt.n1);
    const plan = w.po(["plan", "--detailed-exitcode"]);
    assert.notEqual(plan.code, 0);
    assert.match(
      plan.stdout,
      /nest {2}! error: nested submodules of engine are not on the commits it records \(lib on another commit\)/,
    );
  });
});

describe("SHA-256 repositories", () => {
  let w: World;
  let dir: string;
  before(() => {
    w = makeWorld();
    const h = join(w.root, "h256");
    mkdirSync(h);
    w.git(h, "init", "-q", "--object-format=sha256");
    makeHarnessRepo(h, w.git);
    dir = join(w.root, "p256");
    mkdirSync(dir);
    w.git(dir, "init", "-q", "--object-format=sha256");
    w.git(dir, "submodule", "add", "-q", h, "engine");
    w.git(join(dir, "engine"), "checkout", "-q", "v0.1.0");
    writeFileSync(join(dir, "agents.toml"), "");
    w.git(dir, "add", ".");
    w.git(dir, "commit", "-qm", "init");
    writeFleetOf(w, { p256: { ref: "v0.2.0", harness: "h256", enabled: false } }, { h256: { url: h } });
  });
  after(() => dispose(w));

  it("a pin commits exactly the one 64-hex gitlink, and a failed one is rolled back to the byte", () => {
    const h = join(w.root, "h256");
    const to = rev(w, h, "v0.2.0^{commit}");
    assert.equal(to.length, 64);
    hook(dir, "exit 1");
    const was = bytes(w, dir);
    const failed = w.po(["apply", "--yes"]);
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /p256: pin FAILED .*rolled back \(gitlink unstaged, engine back on [0-9a-f]{7}\)/);
    assert.deepEqual(bytes(w, dir), was);
    hook(dir, "exit 0");
    const r = w.po(["apply", "--yes"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(
      w.git(dir, "diff-tree", "-r", "--no-commit-id", "HEAD~1", "HEAD"),
      `:160000 160000 ${rev(w, h, "v0.1.0^{commit}")} ${to} M\tengine\n`,
    );
    assert.equal(w.git(dir, "status", "--porcelain"), "");
  });
});

describe("an annotated tag's object id as ref never lands in a gitlink", () => {
  let w: World;
  let dir: string;
  before(() => {
    w = makeWorld();
    dir = makeProject(w, "tagid", "v0.2.0");
    // v0.1.0 is an annotated tag: its own object id is not a commit.
    writeFleetOf(w, { tagid: { ref: rev(w, w.harnessUrl, "v0.1.0"), enabled: false } });
  });
  after(() => dispose(w));

  it("the gitlink becomes the peeled commit, or nothing changes at all", () => {
    const was = bytes(w, dir);
    const peeled = rev(w, w.harnessUrl, "v0.1.0^{commit}");
    const r = w.po(["apply", "--yes"]);
    const pin = w.git(dir, "ls-tree", "HEAD", "--", "engine");
    assert.doesNotMatch(pin, new RegExp(rev(w, w.harnessUrl, "v0.1.0")), "never the tag object");
    if (r.code === 0) assert.match(pin, new RegExp(`160000 commit ${peeled}\tengine`));
    else assert.deepEqual(bytes(w, dir), was, r.stdout + r.stderr);
  });
});
