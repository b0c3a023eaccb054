// Robustness on real git, tmux and processes: closed pipes (every verb), harness processes that keep
// pipes open or print without end, saved plans bound to their content and fleet, and create touching
// only its own.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI, makeProject, makeWorld, until, type World } from "./support/world.js";

const STACK = /^\s+at .*:\d+:\d+\)?$/m;

/** Runs po with its stdout closed by the reader before po writes, as `po … | head -c 1` may find it. */
function headOne(w: World, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: w.root,
      env: w.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(new Error(`po ${args.join(" ")} did not exit within 60 s after its stdout was closed`));
    }, 60_000);
    child.stdout.destroy();
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    child.on("exit", (code) => {
      clearTimeout(timer);
      done({ code, stderr });
    });
  });
}

const harness = (w: World, up: string) => `version = 1

[harnesses.h]
url = "${w.harnessUrl}"
up = ["sh", "-c", ${JSON.stringify(up)}]
down = ["sh", "-c", "tmux kill-session -t =alpha-a 2>/dev/null; true"]
timeout_s = 3600

[projects.alpha]
location = "alpha"
harness = "h"
ref = "v0.1.0"
enabled = true
`;

describe("closed pipes and long-lived harness processes", () => {
  let w: World;
  before(() => {
    w = makeWorld();
    makeProject(w, "alpha", "v0.1.0");
  });
  after(() => {
    if (!w) return;
    // every up of this describe left one daemon: each recorded its own
    const pids = existsSync(join(w.root, "daemon.pids")) ? readFileSync(join(w.root, "daemon.pids"), "utf8") : "";
    for (const pid of pids.split("\n").filter(Boolean)) spawnSync("kill", ["--", pid]);
    w?.cleanup();
  });

  it("a harness up that leaves a daemon holding stdout succeeds when up exits 0", () => {
    const up = `sleep 600 & echo $! >> ${w.root}/daemon.pids; tmux new-session -d -s alpha-a 'sleep 3600'; echo started`;
    writeFileSync(join(w.root, "fleet.toml"), harness(w, up));
    const r = w.po(["apply", "--yes"], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /alpha: start ok/);
    assert.ok(w.sessions().includes("alpha-a"));
  });

  it("every reading verb whose stdout is closed after one byte exits quietly with its own exit code", async () => {
    for (const [args, want] of [
      [["list"], 0],
      [["get", "alpha"], 0],
      [["validate"], 0],
      [["plan"], 0],
      [["status"], 0],
      [["plan", "--json"], 0],
      [["--help"], 0],
    ] as [string[], number][]) {
      const r = await headOne(w, args);
      assert.equal(r.code, want, `po ${args.join(" ")}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, STACK, `po ${args.join(" ")} printed a stack trace`);
      assert.doesNotMatch(r.stderr, /EPIPE|internal error/);
    }
  });

  it("an apply whose stdout closes finishes its actions, journals them and releases its lock", async () => {
    w.tmux("kill-session", "-t", "=alpha-a");
    const r = await headOne(w, ["apply", "--yes"]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, STACK);
    assert.ok(w.sessions().includes("alpha-a"), "the start ran to its end");
    assert.equal(existsSync(join(w.root, ".ao-state", "apply.lock")), false, "the lock was released");
    const events = readFileSync(join(w.root, ".ao-state", "journal.jsonl"), "utf8")
      .trim()
      .split("\n");
    assert.match(events.at(-1)!, /"event":"apply-end","outcome":"converged"/);
  });
});

describe("every other verb with its stdout closed", () => {
  let w: World;
  before(() => {
    w = makeWorld();
    makeProject(w, "alpha", "v0.1.0");
    makeProject(w, "beta", "v0.1.0");
    writeFileSync(join(w.root, "fleet.toml"), harness(w, "tmux new-session -d -s alpha-a 'sleep 3600'"));
  });
  after(() => w?.cleanup());

  it("exits quietly with its own exit code, also when it writes", async () => {
    assert.equal(w.po(["apply", "--yes"]).code, 0);
    assert.equal(w.po(["plan", "--out", "p.json"]).code, 0);
    for (const [args, want] of [
      [["init", "newfleet"], 0],
      [["logs", "alpha"], 0],
      [["logs", "alpha", "--harness"], 0],
      [["attach", "alpha"], 1], // no terminal: one line, on stderr
      [["restart", "alpha", "--yes"], 0],
      [["history"], 0],
      [["show", "p.json"], 0],
      [["completion", "bash"], 0],
      [["hosts"], 0],
      [["outdated"], 2],
      [["import", "beta", "--yes"], 0],
      [["forget", "beta", "--yes"], 0],
      [["update", "alpha", "v0.2.0", "--yes"], 0],
      [["agents", "status", "--dir", "alpha"], 0],
    ] as [string[], number][]) {
      const r = await headOne(w, args);
      assert.equal(r.code, want, `po ${args.join(" ")}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, STACK, `po ${args.join(" ")} printed a stack trace`);
      assert.doesNotMatch(r.stderr, /EPIPE|internal error/);
    }
    assert.deepEqual(w.sessions(), ["alpha-a"], "restart and update left alpha's agent running");
    assert.match(readFileSync(join(w.root, "fleet.toml"), "utf8"), /ref = "v0\.2\.0"/, "update wrote fleet.toml");
    assert.ok(existsSync(join(w.root, "newfleet", "fleet.toml")), "init wrote its fleet");
  });
});

describe("a harness that prints without end", { skip: !existsSync("/usr/bin/time") && "no /usr/bin/time" }, () => {
  let w: World;
  before(() => {
    w = makeWorld();
    makeProject(w, "alpha", "v0.1.0");
  });
  after(() => w?.cleanup());

  it("keeps a bounded tail: 200 MB of output neither fails the start nor grows po", () => {
    const up =
      "head -c 200000000 /dev/zero | tr '\\\\0' x; echo; echo the-last-line; tmux new-session -d -s alpha-a 'sleep 3600'";
    writeFileSync(join(w.root, "fleet.toml"), harness(w, up));
    const r = spawnSync("/usr/bin/time", ["-f", "maxrss=%M", process.execPath, CLI, "apply", "--yes"], {
      cwd: w.root,
      env: w.env,
      encoding: "utf8",
      timeout: 120_000,
    });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr.slice(-500)}`);
    const kb = Number(/maxrss=(\d+)/.exec(r.stderr)?.[1]);
    assert.ok(kb > 0 && kb < 150_000, `po's peak memory was ${kb} KiB (want under 150 MB)`);
  });
});

describe("saved plans are bound to what they were made from", () => {
  let w: World;
  before(() => {
    w = makeWorld();
    makeProject(w, "alpha", "v0.1.0");
    writeFileSync(
      join(w.root, "fleet.toml"),
      harness(w, "tmux new-session -d -s alpha-a 'sleep 3600'").replace("enabled = true", "enabled = false"),
    );
    w.tmux("new-session", "-d", "-s", "alpha-a", "sleep 3600");
  });
  after(() => w?.cleanup());

  it("an edited id is refused as an edit, and nothing runs", () => {
    assert.equal(w.po(["plan", "--out", "p.json"]).code, 0);
    const plan = JSON.parse(readFileSync(join(w.root, "p.json"), "utf8"));
    plan.id = "0".repeat(32);
    writeFileSync(join(w.root, "edited.json"), JSON.stringify(plan));
    const r = w.po(["apply", "edited.json", "--yes"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^po: edited\.json: not a saved plan of format po-plan\/1: its id does not match its content/,
    );
    assert.ok(w.sessions().includes("alpha-a"));
  });

  it("a plan of another fleet file is refused, and one named by --fleet still asks", () => {
    mkdirSync(join(w.root, "elsewhere"));
    writeFileSync(join(w.root, "elsewhere", "fleet.toml"), "version = 1\n");
    const other = w.po(["apply", join(w.root, "p.json"), "--yes"], { cwd: join(w.root, "elsewhere") });
    assert.equal(other.code, 1);
    assert.match(other.stderr, /^po: saved plan .*p\.json was made for .*fleet\.toml, not .*elsewhere\/fleet\.toml/);
    const asked = w.po(["apply", join(w.root, "p.json"), "--fleet", join(w.root, "fleet.toml")], {
      cwd: join(w.root, "elsewhere"),
    });
    assert.equal(asked.code, 1);
    assert.match(asked.stderr, /refusing to change the fleet without confirmation: no terminal; pass --yes/);
    assert.ok(w.sessions().includes("alpha-a"), "nothing was stopped");
  });

  it("plan --out into a missing folder is one clear line", () => {
    const r = w.po(["plan", "--out", "nowhere/p.json"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /cannot save the plan to nowhere\/p\.json: the folder .*nowhere does not exist/);
  });
});

describe("po create touches only what it made", () => {
  let w: World;
  before(() => {
    w = makeWorld();
    writeFileSync(join(w.root, "fleet.toml"), harness(w, "true"));
  });
  after(() => w?.cleanup());

  it("refuses a dangling symlink, a file and a path under a file, in one line, leaving them as they were", () => {
    symlinkSync(join(w.root, "gone"), join(w.root, "dangling"));
    writeFileSync(join(w.root, "afile"), "x");
    for (const [loc, want] of [
      ["dangling", /dangling is a symlink/],
      ["afile", /afile is a file, not a folder/],
      ["afile/sub/p", /afile is a file, not a folder/],
    ] as [string, RegExp][]) {
      const r = w.po(["create", "p", "--ref", "v0.1.0", "--location", join(w.root, loc)]);
      assert.equal(r.code, 1, loc);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, want);
    }
    assert.equal(
      spawnSync("readlink", [join(w.root, "dangling")], { encoding: "utf8" }).stdout.trim(),
      join(w.root, "gone"),
    );
    assert.equal(readFileSync(join(w.root, "afile"), "utf8"), "x");
  });

  it("a failed create removes the folders it made and nothing above them", async () => {
    mkdirSync(join(w.root, "kept"));
    const r = w.po(["create", "p", "--ref", "v9.9.9", "--location", join(w.root, "kept", "new", "deeper", "p")]);
    assert.equal(r.code, 1);
    await until(() => !existsSync(join(w.root, "kept", "new")), 15_000, "the folders create made to be removed");
    assert.ok(existsSync(join(w.root, "kept")), "the folder that existed before stays");
  });
});

describe("the current folder is gone", () => {
  it("is one clear line, not an internal error", () => {
    const w = makeWorld();
    try {
      const gone = join(w.root, "gone");
      mkdirSync(gone);
      const r = spawnSync("sh", ["-c", `cd ${gone} && rmdir ${gone} && exec "$0" "$1" list`, process.execPath, CLI], {
        env: w.env,
        encoding: "utf8",
        timeout: 30_000,
      });
      assert.equal(r.status, 1);
      assert.equal(r.stderr, "po: the current folder no longer exists; cd to a folder that exists and run po again\n");
    } finally {
      w.cleanup();
    }
  });
});
