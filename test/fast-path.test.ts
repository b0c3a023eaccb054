// The fast path (src/git-files.ts) against git itself, on many real repositories: every answer the
// fast path gives must be git's, and where the repository has the plain shape po's projects have,
// the fast path must answer (not decline). Then whole observations with and without the fast path
// must be identical.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { DesiredProject, HarnessSpec } from "../reconcile/model.js";
import { fast, Repo } from "../src/observe/git-files.js";
import { gitDirOf, observeProject } from "../src/observe/observe.js";
import { resolver, type Resolver } from "../src/observe/resolve-ref.js";
import { mapLimit } from "../reconcile/limit.js";
import { makeProject, makeWorld, writeFleet, type World } from "./support/world.js";

type Piece = "pin" | "head" | "clean" | "refs" | "tags";

interface Case {
  name: string;
  /** the project's work tree */
  dir: string;
  /** the submodule path */
  path: string;
  /** pieces the fast path must answer itself here */
  fastFor: Piece[];
  /** what git status must say of the submodule: clean or not (a check that the case is what it claims) */
  gitDirty?: boolean;
}

const STANDARD: Piece[] = ["pin", "head", "clean", "refs", "tags"];
const REFS = [
  "refs/tags/v0.1.0",
  "refs/tags/v0.2.0",
  "refs/heads/main",
  "refs/remotes/origin/main",
  "refs/remotes/origin/HEAD",
  "refs/tags/nope",
  "refs/tags/outer",
  "refs/tags/main",
];

let w: World;
const cases: Case[] = [];

function git(dir: string, ...args: string[]): string {
  return w.git(dir, ...args);
}

function gitOr(dir: string, fallback: string, ...args: string[]): string {
  try {
    return git(dir, ...args);
  } catch {
    return fallback;
  }
}

/** Files of a work tree (not .git), backdated, and the index refreshed: stat data fresh, nothing racy. */
function settle(dir: string): void {
  const past = new Date(Date.now() - 60_000);
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === ".git") continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isSymbolicLink()) lutimesSync(p, past, past);
      else utimesSync(p, past, past);
    }
  };
  walk(dir);
  git(dir, "update-index", "-q", "--refresh");
}

function add(
  name: string,
  fastFor: Piece[],
  setup: (dir: string, sub: string) => void,
  opts: { path?: string; gitDirty?: boolean; make?: () => string } = {},
): void {
  const dir = opts.make ? opts.make() : makeProject(w, name.replace(/[^a-z0-9]+/gi, "-"), "v0.1.0");
  const path = opts.path ?? "engine";
  setup(dir, join(dir, path));
  cases.push({ name, dir, path, fastFor, ...(opts.gitDirty !== undefined ? { gitDirty: opts.gitDirty } : {}) });
}

/** Commits files into the submodule's own history (its HEAD moves past the harness's commits). */
function commitInSub(sub: string, files: Record<string, string>): void {
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(sub, f, ".."), { recursive: true });
    writeFileSync(join(sub, f), text);
  }
  git(sub, "add", ".");
  git(sub, "commit", "-qm", "local files");
}

function harness(path: string): HarnessSpec {
  return {
    name: "h",
    url: w.harnessUrl,
    path,
    up: ["true"],
    down: ["true"],
    session: "{dir}-{agent}",
    timeoutMs: 10_000,
  };
}

before(() => {
  w = makeWorld("po-fast-");
  // a global excludes file, read once per process like every rule from outside the repository
  mkdirSync(join(w.env.HOME!, ".config", "git"), { recursive: true });
  writeFileSync(join(w.env.HOME!, ".config", "git", "ignore"), "*.global-ignored\n");
  // The in-process fast path and git (simple-git) must see the world's git config and HOME.
  for (const k of Object.keys(process.env)) if (!(k in w.env)) delete process.env[k];
  Object.assign(process.env, w.env);
  const sha = (rev: string) => git(w.harnessUrl, "rev-parse", `${rev}^{commit}`).trim();

  add("annotated", STANDARD, (_d, sub) => settle(sub));
  add("lightweight", STANDARD, (_d, sub) => {
    git(sub, "checkout", "-q", "v0.2.0");
    settle(sub);
  });
  add("branch", STANDARD, (_d, sub) => {
    git(sub, "checkout", "-q", "main");
    settle(sub);
  });
  // Not settled: files written in the second the index was, so git (and we) compare contents.
  add("racy", STANDARD, () => {});
  add("packed-refs", STANDARD, (d, sub) => {
    git(d, "pack-refs", "--all");
    git(sub, "pack-refs", "--all");
    settle(sub);
  });
  add("gc", STANDARD, (d, sub) => {
    git(d, "gc", "-q");
    git(sub, "gc", "-q");
    settle(sub);
  });
  add("loose-over-packed", STANDARD, (_d, sub) => {
    git(sub, "pack-refs", "--all");
    git(sub, "tag", "-f", "v0.2.0", sha("main"));
    settle(sub);
  });
  add("tag-of-tag", ["pin", "head", "clean", "refs"], (_d, sub) => {
    git(sub, "tag", "-a", "outer", "-m", "a tag of a tag", "v0.1.0");
    settle(sub);
  });
  add("detached-super", STANDARD, (d, sub) => {
    git(d, "checkout", "-q", "--detach");
    settle(sub);
  });
  add("detached-super-packed", STANDARD, (d, sub) => {
    git(d, "checkout", "-q", "--detach");
    git(d, "gc", "-q");
    settle(sub);
  });
  for (const v of ["2", "4"]) {
    add(`index-v${v}`, STANDARD, (_d, sub) => {
      commitInSub(sub, {
        "lib/a.js": "a\n",
        "lib/b/c.js": "c\n",
        "lib/b/d.js": "d\n",
        "lib/bb.js": "bb\n",
        "lib-x": "x\n",
        "run.sh": "#!/bin/sh\n",
      });
      chmodSync(join(sub, "run.sh"), 0o755);
      symlinkSync("VERSION", join(sub, "link"));
      git(sub, "add", ".");
      git(sub, "commit", "-qm", "exec bit and a symlink");
      git(sub, "update-index", "--index-version", v);
      settle(sub);
    });
  }
  // Declined on purpose: each of these must fall back, and git decides.
  add("skip-worktree (index v3)", ["pin", "head", "refs", "tags"], (_d, sub) => {
    git(sub, "update-index", "--skip-worktree", "VERSION");
    settle(sub);
  });
  add(
    "intent-to-add",
    ["pin", "head", "refs", "tags"],
    (_d, sub) => {
      writeFileSync(join(sub, "new.txt"), "new\n");
      git(sub, "add", "-N", "new.txt");
    },
    { gitDirty: true },
  );
  add(
    "modified",
    ["pin", "head", "refs", "tags"],
    (_d, sub) => {
      settle(sub);
      writeFileSync(join(sub, "VERSION"), "changed\n");
    },
    { gitDirty: true },
  );
  // Git compares ctime to the second only: within the second of the refresh it misses this change
  // and says clean. We compare ctime to the nanosecond, decline, and so agree with git either way.
  add("modified, same size and mtime", ["pin", "head", "refs", "tags"], (_d, sub) => {
    settle(sub);
    const file = join(sub, "VERSION");
    const { atime, mtime } = statSync(file);
    writeFileSync(file, "9.9.9\n");
    utimesSync(file, atime, mtime);
    assert.equal(fast(() => Repo.open(sub).isClean()).ok, false);
  });
  add(
    "exec bit",
    ["pin", "head", "refs", "tags"],
    (_d, sub) => {
      settle(sub);
      chmodSync(join(sub, "VERSION"), 0o755);
    },
    { gitDirty: true },
  );
  add(
    "staged",
    ["pin", "head", "refs", "tags"],
    (_d, sub) => {
      writeFileSync(join(sub, "VERSION"), "staged\n");
      git(sub, "add", "VERSION");
      settle(sub);
    },
    { gitDirty: true },
  );
  add(
    "deleted",
    ["pin", "head", "refs", "tags"],
    (_d, sub) => {
      settle(sub);
      git(sub, "rm", "-q", "--cached", "VERSION");
    },
    { gitDirty: true },
  );
  add(
    "untracked",
    ["pin", "head", "refs", "tags"],
    (_d, sub) => {
      settle(sub);
      writeFileSync(join(sub, "notes.txt"), "x\n");
    },
    { gitDirty: true },
  );
  add(
    "untracked, nested",
    ["pin", "head", "refs", "tags"],
    (_d, sub) => {
      commitInSub(sub, { "lib/a.js": "a\n" });
      settle(sub);
      mkdirSync(join(sub, "lib", "new"));
      writeFileSync(join(sub, "lib", "new", "x.js"), "x\n");
    },
    { gitDirty: true },
  );
  add(
    "ignored (info/exclude, global excludes)",
    STANDARD,
    (_d, sub) => {
      settle(sub);
      writeFileSync(join(sub, "..", ".git", "modules", "engine", "info", "exclude"), "# local\n*.log\n");
      writeFileSync(join(sub, "debug.log"), "x\n");
      writeFileSync(join(sub, "x.global-ignored"), "x\n");
    },
    { gitDirty: false },
  );
  add(
    "ignored (.gitignore: directories, anchored, nested)",
    STANDARD,
    (_d, sub) => {
      commitInSub(sub, {
        ".gitignore": "__pycache__/\n/build\nlib/*.tmp\n",
        "lib/a.py": "a\n",
        "lib/.gitignore": "*.bak\n",
      });
      settle(sub);
      for (const f of ["__pycache__/a.pyc", "lib/__pycache__/a.pyc", "build/out.js", "lib/x.tmp", "lib/deep/y.bak"]) {
        mkdirSync(join(sub, f, ".."), { recursive: true });
        writeFileSync(join(sub, f), "x\n");
      }
    },
    { gitDirty: false },
  );
  add(
    "ignored only below the .gitignore",
    ["pin", "head", "refs", "tags"],
    (_d, sub) => {
      commitInSub(sub, { "lib/a.py": "a\n", "lib/.gitignore": "*.bak\n" });
      settle(sub);
      mkdirSync(join(sub, "cache", "sub"), { recursive: true });
      writeFileSync(join(sub, "cache", "sub", "z.bak"), "x\n");
    },
    { gitDirty: true },
  );
  add(
    "ignored, but not where anchored",
    ["pin", "head", "refs", "tags"],
    (_d, sub) => {
      commitInSub(sub, { ".gitignore": "/build\n", "lib/a.py": "a\n" });
      settle(sub);
      mkdirSync(join(sub, "lib", "build"));
      writeFileSync(join(sub, "lib", "build", "x"), "x\n");
    },
    { gitDirty: true },
  );
  add(
    "ignored, with a negation",
    ["pin", "head", "refs", "tags"],
    (_d, sub) => {
      commitInSub(sub, { ".gitignore": "*.log\n!keep.log\n" });
      settle(sub);
      writeFileSync(join(sub, "a.log"), "x\n");
    },
    { gitDirty: false },
  );
  add("symlinked .gitignore", ["pin", "head", "refs", "tags"], (_d, sub) => {
    settle(sub);
    writeFileSync(join(sub, "..", "elsewhere.gitignore"), "*\n");
    symlinkSync("../elsewhere.gitignore", join(sub, ".gitignore"));
  });
  add(
    "untracked beside ignored",
    ["pin", "head", "refs", "tags"],
    (_d, sub) => {
      commitInSub(sub, { ".gitignore": "*.pyc\n" });
      settle(sub);
      mkdirSync(join(sub, "cache"));
      writeFileSync(join(sub, "cache", "a.pyc"), "x\n");
      writeFileSync(join(sub, "cache", "notes.txt"), "x\n");
    },
    { gitDirty: true },
  );
  add(
    "empty directories",
    STANDARD,
    (_d, sub) => {
      settle(sub);
      mkdirSync(join(sub, "empty", "emptier"), { recursive: true });
    },
    { gitDirty: false },
  );
  add(
    "attributes, racy",
    ["pin", "head", "refs", "tags"],
    (_d, sub) => {
      commitInSub(sub, { ".gitattributes": "*.txt text eol=crlf\n", "a.txt": "a\n" });
    },
    { gitDirty: false },
  );
  add("split index", ["pin", "head", "refs", "tags"], (_d, sub) => {
    git(sub, "update-index", "--split-index");
    settle(sub);
  });
  add("nested submodule", ["pin", "head", "refs", "tags"], (_d, sub) => {
    git(sub, "submodule", "add", "-q", w.harnessUrl, "inner");
    git(sub, "commit", "-qm", "inner");
    settle(sub);
  });
  add("staged gitlink", STANDARD, (d, sub) => {
    git(sub, "checkout", "-q", "v0.2.0");
    git(d, "add", "engine");
    settle(sub);
    assert.deepEqual(
      fast(() => Repo.open(d).gitlinkInHead("engine")),
      { ok: true, value: sha("v0.1.0") },
      "HEAD's pin, not the staged one",
    );
  });
  add("uninitialized", ["pin"], () => {}, {
    make: () => {
      const src = makeProject(w, "uninit-src", "v0.1.0");
      git(w.root, "clone", "-q", src, "uninitialized");
      return join(w.root, "uninitialized");
    },
  });
  add("unborn", ["pin", "head", "clean"], (_d, sub) => settle(sub), {
    make: () => {
      const dir = join(w.root, "unborn");
      mkdirSync(dir);
      git(dir, "init", "-q");
      git(dir, "submodule", "add", "-q", w.harnessUrl, "engine");
      return dir;
    },
  });
  add("nested path", STANDARD, (_d, sub) => settle(sub), {
    path: "vendor/engine",
    make: () => {
      const dir = join(w.root, "nested-path");
      mkdirSync(dir);
      git(dir, "init", "-q");
      writeFileSync(join(dir, "README"), "x\n");
      git(dir, "submodule", "add", "-q", w.harnessUrl, "vendor/engine");
      git(dir, "add", ".");
      git(dir, "commit", "-qm", "nested");
      return dir;
    },
  });
  add("replace refs", ["head", "clean", "refs", "tags"], (d, sub) => {
    git(d, "commit", "-q", "--allow-empty", "-m", "second");
    git(d, "replace", "HEAD", "HEAD~1");
    settle(sub);
  });
  add("linked worktree", [], () => {}, {
    make: () => {
      const src = makeProject(w, "wt-src", "v0.1.0");
      git(src, "worktree", "add", "-q", "--detach", join(w.root, "linked-worktree"));
      git(join(w.root, "linked-worktree"), "submodule", "update", "-q", "--init");
      return join(w.root, "linked-worktree");
    },
  });
  add("shared clone (alternates)", ["head", "clean", "refs", "tags"], (_d, sub) => settle(sub), {
    make: () => {
      const src = makeProject(w, "shared-src", "v0.1.0");
      git(w.root, "clone", "-q", "--shared", src, "shared");
      git(join(w.root, "shared"), "submodule", "update", "-q", "--init");
      return join(w.root, "shared");
    },
  });
});

after(() => w?.cleanup());

/** What git says, for each piece. */
function gitAnswers(c: Case) {
  const sub = join(c.dir, c.path);
  const lsTree = gitOr(c.dir, "", "ls-tree", "-z", "HEAD", "--", c.path);
  const pin = /^160000 commit ([0-9a-f]+)\t/.exec(lsTree)?.[1];
  if (!gitDirOf(sub)) return { pin };
  const head = gitOr(sub, "", "rev-parse", "--verify", "--quiet", "HEAD").trim() || undefined;
  const status = git(sub, "status", "--porcelain", "--untracked-files=normal");
  const refs = Object.fromEntries(
    REFS.map((r) => [
      r,
      gitOr(sub, "", "rev-parse", "--verify", "--quiet", "--end-of-options", `${r}^{commit}`).trim() || undefined,
    ]),
  );
  const commits = [...new Set([pin, head, ...Object.values(refs)].filter((x): x is string => Boolean(x)))];
  const tags = Object.fromEntries(
    commits.map((c2) => [c2, gitOr(sub, "?", "tag", "--points-at", c2, "--sort=refname").split("\n").filter(Boolean)]),
  );
  return { pin, head, status, refs, tags };
}

describe("fast path against git", () => {
  it("answers exactly as git, and answers itself on plain repositories", () => {
    assert.ok(cases.length >= 30, `${cases.length} cases`);
    for (const c of cases) {
      const g = gitAnswers(c);
      const sub = join(c.dir, c.path);
      const answered = new Set<Piece>();
      const pin = fast(() => Repo.open(c.dir).gitlinkInHead(c.path));
      if (pin.ok) {
        answered.add("pin");
        assert.equal(pin.value, g.pin, `${c.name}: pin`);
      }
      if (gitDirOf(sub)) {
        const head = fast(() => Repo.open(sub).head());
        if (head.ok) {
          answered.add("head");
          assert.equal(head.value, g.head, `${c.name}: submodule HEAD`);
        }
        if (c.gitDirty !== undefined)
          assert.equal(
            g.status !== "",
            c.gitDirty,
            `${c.name}: the case is ${c.gitDirty ? "dirty" : "clean"} for git (${g.status})`,
          );
        const clean = fast(() => Repo.open(sub).isClean());
        if (clean.ok) {
          answered.add("clean");
          assert.equal(g.status, "", `${c.name}: fast path says clean, git says ${g.status}`);
        } else if (c.fastFor.includes("clean")) assert.fail(`${c.name}: clean declined: ${clean.why}`);
        let allRefs = true;
        for (const r of REFS) {
          const f = fast(() => Repo.open(sub).refCommit(r));
          if (f.ok) assert.equal(f.value, g.refs![r], `${c.name}: ${r}`);
          else allRefs = false;
        }
        if (allRefs) answered.add("refs");
        let allTags = true;
        for (const [commit, names] of Object.entries(g.tags!)) {
          const f = fast(() => Repo.open(sub).tagsAt(commit));
          if (f.ok) assert.deepEqual(f.value, names, `${c.name}: tags at ${commit}`);
          else allTags = false;
        }
        if (allTags) answered.add("tags");
      }
      for (const p of c.fastFor) assert.ok(answered.has(p), `${c.name}: the fast path should answer ${p} itself`);
    }
  });

  it("observes every project exactly as git does", async () => {
    const probes = cases.flatMap((c) =>
      ["v0.1.0", "main", ...(c.name === "tag-of-tag" ? ["outer"] : [])].map((ref): DesiredProject => ({
        name: c.name,
        location: c.dir,
        harness: harness(c.path),
        ref,
        enabled: true,
      })),
    );
    const observe = (refs: Resolver) => (p: DesiredProject) => observeProject(p, new Set([`${p.name}-a`]), refs);
    const withFast = await mapLimit(probes, 1, observe(resolver(false)));
    process.env.PO_FAST_PATH = "0";
    try {
      const withGit = await mapLimit(probes, 4, observe(resolver(false)));
      probes.forEach((p, i) => assert.deepEqual(withFast[i], withGit[i], `${p.name} @ ${p.ref}`));
    } finally {
      delete process.env.PO_FAST_PATH;
    }
  });

  it("reads every object of packed repositories, deltas included", () => {
    const dir = join(w.root, "objects");
    mkdirSync(dir);
    git(dir, "init", "-q");
    for (let i = 0; i < 12; i++) {
      for (let f = 0; f < 20; f++) writeFileSync(join(dir, `f${f}.txt`), `${"line of text\n".repeat(50)}${i}:${f}\n`);
      git(dir, "add", ".");
      git(dir, "commit", "-qm", `commit ${i}`);
      if (i % 4 === 0) git(dir, "tag", "-a", `t${i}`, "-m", `tag ${i}`);
    }
    // offset deltas (the default), then deltas naming their base by id
    for (const repack of [
      ["gc", "-q", "--aggressive"],
      ["-c", "repack.useDeltaBaseOffset=false", "repack", "-q", "-a", "-d", "-f"],
    ]) {
      git(dir, ...repack);
      const pack = readdirSync(join(dir, ".git", "objects", "pack")).find((f) => f.endsWith(".idx"))!;
      const verify = git(dir, "verify-pack", "-v", join(dir, ".git", "objects", "pack", pack));
      assert.match(verify, /^[0-9a-f]{40} (tree|blob) +\d+ \d+ \d+ \d+ [0-9a-f]{40}$/m, "the pack holds deltas");
      const repo = Repo.open(dir);
      const all = git(dir, "cat-file", "--batch-all-objects", "--batch-check").trim().split("\n");
      assert.ok(all.length > 250);
      for (const line of all) {
        const [sha, type, size] = line.split(" ");
        const o = fast(() => repo.objects.read(sha));
        assert.ok(o.ok, `${repack[0]}: ${sha}: ${!o.ok && o.why}`);
        assert.equal(o.value.type, type);
        assert.equal(o.value.body.length, Number(size));
      }
    }
  });

  it("plans and reports an in-sync fleet without asking git anything", () => {
    const fleetDir = join(w.root, "in-sync");
    mkdirSync(fleetDir);
    for (const [name, ref] of [
      ["alpha", "v0.1.0"],
      ["beta", "v0.2.0"],
    ]) {
      const dir = makeProject(w, join("in-sync", name), ref);
      settle(join(dir, "engine"));
    }
    writeFleet(w, {
      alpha: { ref: "v0.1.0", location: "in-sync/alpha" },
      beta: { ref: "v0.2.0", location: "in-sync/beta" },
    });
    w.tmux("new-session", "-d", "-s", "alpha-a", "sleep 600");
    w.tmux("new-session", "-d", "-s", "beta-a", "sleep 600");
    // a git first on PATH that notes every call, then runs the real one
    const bin = join(w.root, "spy-bin");
    const calls = join(w.root, "git-calls.log");
    mkdirSync(bin);
    const realGit = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    writeFileSync(join(bin, "git"), `#!/bin/sh\necho "$*" >> '${calls}'\nexec '${realGit}' "$@"\n`, { mode: 0o755 });
    const path = w.env.PATH;
    w.env.PATH = `${bin}:${path}`;
    w.env.PO_DEBUG = "1"; // says each question the fast path declines
    try {
      for (const verb of [["plan", "--detailed-exitcode"], ["status"]]) {
        const r = w.po(verb);
        assert.equal(r.code, 0, `po ${verb[0]}: ${r.stdout}${r.stderr}`);
        assert.doesNotMatch(r.stderr, /declined/, `po ${verb[0]} asked git`);
      }
      assert.equal(existsSync(calls) ? readFileSync(calls, "utf8") : "", "", "no git process started");
      // and the spy does see git when the fast path is off
      w.env.PO_FAST_PATH = "0";
      assert.equal(w.po(["plan", "--detailed-exitcode"]).code, 0);
      assert.match(readFileSync(calls, "utf8"), /ls-tree/);
    } finally {
      w.env.PATH = path;
      delete w.env.PO_DEBUG;
      delete w.env.PO_FAST_PATH;
    }
    assert.match(w.po(["status"]).stdout, /alpha .*\(v0\.1\.0\).*in sync[\s\S]*beta .*\(v0\.2\.0\).*in sync/);
  });
});
