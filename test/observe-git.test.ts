// Observation against git itself, the oracle, on many real repositories: plain and packed ones,
// SHA-256 ones, CRLF files under .gitattributes, nested submodules, non-ASCII names, cp -a copies
// whose index stat data are stale, corrupt objects and packs. Every pin, checkout and local-changes
// answer must be git's; on the plain shapes the small reader must answer itself, without git.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DesiredProject } from "../reconcile/model.js";
import { Repo } from "../src/observe/git-read.js";
import { observeProject } from "../src/observe/observe.js";
import type { Resolver } from "../src/observe/resolve-ref.js";
import { makeProject, makeWorld, type World } from "./support/world.js";

interface Case {
  name: string;
  dir: string;
  path: string;
  /** the reader must answer pin and submodule HEAD itself here */
  plain: boolean;
  /** what git status must say of the submodule (a check that the case is what it claims) */
  dirty?: boolean;
}

let w: World;
const cases: Case[] = [];
const git = (dir: string, ...args: string[]) => w.git(dir, ...args);
// git's answer, "" where git itself fails: where git cannot read a pin or a HEAD (unborn, corrupt
// objects or packs), the expected answer is that po does not claim one either
const gitOr = (dir: string, ...args: string[]) => {
  try {
    return git(dir, ...args);
  } catch {
    return "";
  }
};

/** A harness as real ones are: CRLF files under .gitattributes, a `*~` rule, non-ASCII names, a nested submodule. */
function realHarness(dir: string, format = "sha1"): void {
  mkdirSync(join(dir, "src"), { recursive: true });
  mkdirSync(join(dir, "docs"));
  git(dir, "init", "-q", `--object-format=${format}`);
  writeFileSync(join(dir, ".gitattributes"), "* text=auto\n*.bat text eol=crlf\n");
  writeFileSync(join(dir, ".gitignore"), "*~\n");
  for (let i = 0; i < 40; i++) writeFileSync(join(dir, "src", `f${i}.txt`), `line ${i}\n`);
  for (let i = 0; i < 3; i++) writeFileSync(join(dir, `s${i}.bat`), `@echo off\r\nrem ${i}\r\n`);
  writeFileSync(join(dir, "docs", "café.md"), "café\n");
  writeFileSync(join(dir, "docs", "日本語.txt"), "ja\n");
  if (format === "sha1") {
    const lib = join(w.root, "lib");
    if (!existsSync(lib)) {
      mkdirSync(lib);
      git(lib, "init", "-q");
      writeFileSync(join(lib, "lib.txt"), "lib\n");
      git(lib, "add", ".");
      git(lib, "commit", "-qm", "lib");
    }
    git(dir, "submodule", "add", "-q", lib, "lib");
  }
  git(dir, "add", ".");
  git(dir, "commit", "-qm", "real 0.1.0");
  git(dir, "tag", "-a", "v0.1.0", "-m", "v0.1.0");
  writeFileSync(join(dir, "src", "f1.txt"), "changed\n");
  git(dir, "commit", "-qam", "real 0.2.0");
  git(dir, "tag", "v0.2.0");
  git(dir, "gc", "-q");
}

/** A project pinning `harness` at v0.1.0 in `path`, nested submodules checked out. */
function project(name: string, harness: string, path = "engine", format = "sha1"): string {
  const dir = join(w.root, name);
  mkdirSync(dir);
  git(dir, "init", "-q", `--object-format=${format}`);
  git(dir, "submodule", "add", "-q", harness, path);
  git(join(dir, path), "checkout", "-q", "v0.1.0");
  git(dir, "submodule", "update", "-q", "--init", "--recursive");
  writeFileSync(join(dir, "agents.toml"), '[agents.a]\ncommand = ["true"]\n');
  git(dir, "add", ".");
  git(dir, "commit", "-qm", name);
  return dir;
}

function add(name: string, dir: string, plain: boolean, opts: { path?: string; dirty?: boolean } = {}): void {
  cases.push({ name, dir, path: opts.path ?? "engine", plain, ...opts });
}

/** A copy as `cp -a` makes it: new inodes and ctimes, so every index entry's stat data are stale. */
function cpA(from: string, name: string, change?: (sub: string) => void): string {
  const dir = join(w.root, name);
  execFileSync("cp", ["-a", from, dir]);
  change?.(join(dir, "engine"));
  return dir;
}

before(() => {
  w = makeWorld("po-observe-");
  for (const k of Object.keys(process.env)) if (!(k in w.env)) delete process.env[k];
  Object.assign(process.env, w.env);
  const plain = makeProject(w, "plain", "v0.1.0");
  add("plain", plain, true);
  const gc = makeProject(w, "gc", "v0.2.0");
  git(gc, "gc", "-q");
  git(join(gc, "engine"), "gc", "-q");
  add("gc (packs, deltas, packed refs)", gc, true);
  const detached = makeProject(w, "detached", "v0.1.0");
  git(detached, "checkout", "-q", "--detach");
  add("detached superproject", detached, true);
  const staged = makeProject(w, "staged", "v0.1.0");
  git(join(staged, "engine"), "checkout", "-q", "v0.2.0");
  git(staged, "add", "engine");
  add("staged gitlink (HEAD's pin counts)", staged, true);
  const uninit = join(w.root, "uninit");
  git(w.root, "clone", "-q", plain, uninit);
  add("uninitialized submodule", uninit, true);
  const unborn = join(w.root, "unborn");
  mkdirSync(unborn);
  git(unborn, "init", "-q");
  git(unborn, "submodule", "add", "-q", w.harnessUrl, "engine");
  add("unborn HEAD", unborn, true);
  const real = join(w.root, "real");
  realHarness(real);
  add("nested path with non-ASCII name", project("nested", real, "vendor/mötör"), true, { path: "vendor/mötör" });
  const tpl = project("template", real);
  add("realistic, fresh", tpl, true, { dirty: false });
  add("cp -a copy", cpA(tpl, "copy"), true, { dirty: false });
  add(
    "cp -a, mtime only",
    cpA(tpl, "touched", (s) => utimesSync(join(s, "s1.bat"), new Date(), new Date())),
    true,
    {
      dirty: false,
    },
  );
  add(
    "cp -a, ignored backup~",
    cpA(tpl, "ignored", (s) => writeFileSync(join(s, "src", "backup~"), "x\n")),
    true,
    {
      dirty: false,
    },
  );
  add(
    "cp -a, CRLF file edited",
    cpA(tpl, "crlf", (s) => writeFileSync(join(s, "s2.bat"), "@echo on\r\n")),
    true,
    {
      dirty: true,
    },
  );
  add(
    "cp -a, untracked",
    cpA(tpl, "untracked", (s) => writeFileSync(join(s, "docs", "ünew.md"), "x\n")),
    true,
    {
      dirty: true,
    },
  );
  add(
    "nested submodule edited",
    cpA(tpl, "nested-edit", (s) => writeFileSync(join(s, "lib", "lib.txt"), "x\n")),
    true,
    {
      dirty: true,
    },
  );
  add(
    "nested submodule untracked",
    cpA(tpl, "nested-new", (s) => writeFileSync(join(s, "lib", "n.txt"), "x\n")),
    true,
    {
      dirty: true,
    },
  );
  const real256 = join(w.root, "real256");
  realHarness(real256, "sha256");
  add("SHA-256 repositories", project("sha256", real256, "engine", "sha256"), false, { dirty: false });
  const linked = join(w.root, "linked");
  git(plain, "worktree", "add", "-q", "--detach", linked);
  git(linked, "submodule", "update", "-q", "--init");
  add("linked worktree", linked, false);
  const shared = join(w.root, "shared");
  git(w.root, "clone", "-q", "--shared", plain, shared);
  git(shared, "submodule", "update", "-q", "--init");
  add("shared clone (alternates)", shared, false);
  const replaced = makeProject(w, "replaced", "v0.1.0");
  git(replaced, "commit", "-q", "--allow-empty", "-m", "second");
  git(replaced, "replace", "HEAD", "HEAD~1");
  add("replace refs", replaced, false);
  const loose = makeProject(w, "corrupt-loose", "v0.1.0");
  const tree = git(loose, "rev-parse", "HEAD^{tree}").trim();
  const file = join(loose, ".git", "objects", tree.slice(0, 2), tree.slice(2));
  chmodSync(file, 0o644);
  writeFileSync(file, "not zlib at all");
  add("corrupt loose object", loose, false);
  const pack = makeProject(w, "corrupt-pack", "v0.1.0");
  git(pack, "gc", "-q");
  const packDir = join(pack, ".git", "objects", "pack");
  const packFile = join(
    packDir,
    readdirSync(packDir).find((f) => f.endsWith(".pack"))!,
  );
  const bytes = readFileSync(packFile);
  for (let i = 40; i < bytes.length - 40; i += 7) bytes[i] ^= 0x55;
  chmodSync(packFile, 0o644);
  writeFileSync(packFile, bytes);
  add("corrupt pack", pack, false);
});

after(() => w?.cleanup());

/** What git says: the pin (ls-tree), the submodule's HEAD (rev-parse) and whether it has local changes. */
function oracle(c: Case) {
  const sub = join(c.dir, c.path);
  const pin = /^160000 commit ([0-9a-f]+)\t/.exec(gitOr(c.dir, "ls-tree", "-z", "HEAD", "--", c.path))?.[1];
  if (!existsSync(join(sub, ".git"))) return { pin };
  const head = gitOr(sub, "rev-parse", "--verify", "-q", "HEAD").trim() || undefined;
  const status = gitOr(sub, "status", "--porcelain", "--untracked-files=normal", "--ignore-submodules=none");
  return { pin, head, dirty: status !== "" };
}

// Whatever the harness says the ref is: a commit no project is on, so that a pin is planned.
const elsewhere: Resolver = {
  prepare: () => {},
  resolve: async () => ({ commit: "e".repeat(40) }),
  tagOf: async () => undefined,
};

function desired(c: Case): DesiredProject {
  const harness = { name: "h", url: w.harnessUrl, path: c.path, up: ["true"], down: ["true"] };
  return {
    name: c.name,
    location: c.dir,
    ref: "v9",
    enabled: false,
    harness: { ...harness, session: "{dir}-{agent}", timeoutMs: 1000 },
  };
}

describe("observation against git", () => {
  it("pins, checkouts and local changes are git's, and the reader answers plain repositories itself", async () => {
    assert.ok(cases.length >= 20, `${cases.length} cases`);
    assert.equal(oracle(cases.find((c) => c.name.startsWith("SHA-256"))!).pin?.length, 64, "a SHA-256 pin");
    for (const c of cases) {
      const g = oracle(c);
      if (c.dirty !== undefined) {
        assert.ok(g.pin && g.head, `${c.name}: git sees a pin and a checkout`);
        assert.equal(g.dirty, c.dirty, `${c.name}: the case is what it claims for git`);
      }
      // the project's index and the submodule's, where git status runs
      const sub = join(c.dir, c.path);
      const indexes = [c.dir, ...(existsSync(join(sub, ".git")) ? [sub] : [])]
        .map((d) => join(gitOr(d, "rev-parse", "--absolute-git-dir").trim(), "index"))
        .filter((f) => existsSync(f));
      const before = indexes.map((f) => readFileSync(f));
      const a = await observeProject(desired(c), new Set(), elsewhere);
      assert.equal(a.pinned, g.pin, `${c.name}: pin`);
      assert.equal(a.checkedOut, g.head, `${c.name}: submodule HEAD`);
      if (g.pin && g.head) assert.equal(Boolean(a.dirty), g.dirty, `${c.name}: local changes (${a.dirty})`);
      indexes.forEach((f, i) => assert.ok(readFileSync(f).equals(before[i]), `${c.name}: ${f} is untouched`));
      if (!c.plain) continue;
      assert.equal(Repo.at(c.dir)!.gitlinkInHead(c.path), g.pin, `${c.name}: reader pin`);
      if (g.head) assert.equal(Repo.at(join(c.dir, c.path))!.head(), g.head);
    }
  });

  it("reads every object of packed repositories, offset and ref deltas included", () => {
    const dir = join(w.root, "objects");
    mkdirSync(dir);
    git(dir, "init", "-q");
    for (let i = 0; i < 12; i++) {
      for (let f = 0; f < 20; f++) writeFileSync(join(dir, `f${f}.txt`), `${"line of text\n".repeat(50)}${i}:${f}\n`);
      git(dir, "add", ".");
      git(dir, "commit", "-qm", `commit ${i}`);
    }
    for (const repack of [
      ["gc", "-q", "--aggressive"],
      ["-c", "repack.useDeltaBaseOffset=false", "repack", "-q", "-a", "-d", "-f"],
    ]) {
      git(dir, ...repack);
      const repo = Repo.at(dir)!;
      const all = git(dir, "cat-file", "--batch-all-objects", "--batch-check").trim().split("\n");
      assert.ok(all.length > 250);
      for (const line of all) {
        const [sha, type, size] = line.split(" ");
        const o = repo.object(sha);
        assert.deepEqual([o.type, o.body.length], [type, Number(size)], `${repack[0]}: ${sha}`);
      }
    }
  });
});
