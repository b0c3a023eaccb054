// A host's own apply lock, po hosts, and a host whose po speaks another protocol or is missing,
// over real OpenSSH (test/support/sshd.ts).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { sshdSkip } from "./support/sshd.js";
import { hostsWorld, type HostsWorld } from "./support/hosts-world.js";
import { CLI, until } from "./support/world.js";
import { poBackground, stopBackground } from "./support/apply-world.js";

describe("host locks and protocol versions over OpenSSH", { skip: sshdSkip(), timeout: 240_000 }, () => {
  let x: HostsWorld;
  before(async () => {
    x = await hostsWorld("po-hosts-lock-");
    x.make("gamma", "h1", "v0.1.0");
    x.make("delta", "h2", "v0.1.0");
    x.make("kappa", "h1", "v0.1.0");
    x.make("lambda", "h1", "v0.1.0");
  });
  after(async () => {
    await stopBackground();
    await x?.dispose();
  });

  const po = (...args: string[]) => x.w.po(args, { timeoutMs: 120_000 });
  const lockFile = () => join(x.w.root, "state-h1", "po", "apply.lock");

  it("a host's lock held by another apply: its actions fail naming the host and holder, nothing runs there", () => {
    x.writeFleet({
      gamma: { host: "h1", ref: "v0.1.0", enabled: true },
      delta: { host: "h2", ref: "v0.1.0", enabled: true },
    });
    // the holder: this test's process, alive, on this machine (which h1 is)
    const holder = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
    mkdirSync(dirname(lockFile()), { recursive: true });
    writeFileSync(lockFile(), JSON.stringify(holder));

    const hosts = po("hosts", "--json");
    assert.equal(hosts.code, 0, hosts.stderr);
    const info = JSON.parse(hosts.stdout) as {
      hosts: { name: string; reachable: boolean; po: string; lock: unknown; projects: string[] }[];
    };
    const version = (
      JSON.parse(readFileSync(join(dirname(CLI), "../../../package.json"), "utf8")) as { version: string }
    ).version;
    assert.deepEqual(
      info.hosts.map((h) => [h.name, h.reachable, h.po, h.lock, h.projects]),
      [
        ["h1", true, version, holder, ["gamma"]],
        ["h2", true, version, null, ["delta"]],
      ],
    );

    const r = po("apply", "--yes");
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^po: gamma: start failed: host h1 \\(ssh h1\\): po: another apply holds the lock ${lockFile()} ` +
          `\\(pid ${process.pid} on `,
        "m",
      ),
    );
    assert.deepEqual(x.sessions("h1"), []);
    assert.deepEqual(x.sessions("h2"), ["delta-a"], "h2 applied while h1 was locked");
    rmSync(lockFile());
    const again = po("apply", "--yes");
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.deepEqual(x.sessions("h1"), ["gamma-a"]);
  });

  it("Ctrl-C once: the host finishes its running action, starts no other, and releases its lock", async () => {
    const release = join(x.w.root, "release");
    // kappa's up waits for the test to release it (a file), so the interrupt lands while it runs
    const up = ["sh", "-c", 'while [ ! -e "$0" ]; do sleep 0.05; done; exec node engine/harness.mjs up', release];
    const fleet = {
      gamma: { host: "h1", ref: "v0.1.0", enabled: true },
      delta: { host: "h2", ref: "v0.1.0", enabled: true },
    };
    x.writeFleet(
      {
        ...fleet,
        kappa: { host: "h1", ref: "v0.1.0", enabled: true },
        lambda: { host: "h1", ref: "v0.1.0", enabled: true },
      },
      { up },
    );
    const h1Journal = () => {
      const f = join(x.w.root, "state-h1", "po", "journal.jsonl");
      return readFileSync(f, "utf8")
        .split("\n")
        .filter(Boolean)
        .map(
          (l) => JSON.parse(l) as { event: string; project?: string; action?: string; outcome?: string; plan: string },
        );
    };
    const before = h1Journal().length;
    const bg = poBackground(x.w, ["apply", "--yes", "--parallelism", "1"]);
    const mine = () => h1Journal().slice(before);
    await until(() => mine().some((l) => l.event === "start" && l.project === "kappa"), 60_000, "kappa's start on h1");
    process.kill(bg.pid, "SIGINT");
    await until(() => mine().some((l) => l.event === "interrupted"), 30_000, "h1 to hear of the interrupt");
    writeFileSync(release, "");
    const r = await bg.done;
    assert.equal(r.code, 130, r.stdout + r.stderr);
    assert.deepEqual(
      mine()
        .filter((l) => l.event === "end")
        .map((l) => `${l.project}:${l.action}:${l.outcome}`),
      ["kappa:start:ok", "lambda:start:skipped"],
    );
    assert.deepEqual(x.sessions("h1"), ["gamma-a", "kappa-a"]);
    assert.equal(existsSync(lockFile()), false, "h1's lock is released");
    const here = readFileSync(join(x.w.root, ".ao-state", "journal.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event: string; plan: string; host?: string; project?: string; outcome?: string });
    const plan = here.at(-1)!.plan;
    assert.deepEqual(
      here.filter((l) => l.plan === plan && l.event === "end").map((l) => `${l.project}@${l.host}:${l.outcome}`),
      ["kappa@h1:ok", "lambda@h1:skipped"],
    );
  });

  it("a host whose po speaks another protocol: one line naming both versions; a missing po: one line too", () => {
    // the same po built with protocol 2: a real po of another version, not a stand-in
    const other = join(x.w.root, "po2");
    const dist = join(dirname(CLI), "../..");
    cpSync(dist, join(other, "dist"), { recursive: true });
    cpSync(join(dist, "../package.json"), join(other, "package.json"));
    symlinkSync(join(dist, "../node_modules"), join(other, "node_modules"));
    const protocolJs = join(other, "dist/src/remote/protocol.js");
    const text = readFileSync(protocolJs, "utf8");
    assert.match(text, /export const PROTOCOL = 1;/);
    writeFileSync(protocolJs, text.replace("export const PROTOCOL = 1;", "export const PROTOCOL = 2;"));
    x.po.h1 = [process.execPath, join(other, "dist/src/cli/main.js")];
    x.po.h2 = [join(x.w.root, "no-such-po")];
    x.writeFleet({
      gamma: { host: "h1", ref: "v0.1.0", enabled: false },
      delta: { host: "h2", ref: "v0.1.0", enabled: false },
    });

    const r = po("plan", "--json");
    assert.equal(r.code, 1, r.stderr);
    const plan = JSON.parse(r.stdout) as { actions: unknown[]; errors: { project: string; message: string }[] };
    assert.deepEqual(plan.actions, []);
    // kappa and lambda left fleet.toml (the inventory has them on h1): they cannot be looked at either
    assert.deepEqual(
      plan.errors.map((e) => e.project),
      ["delta", "gamma", "kappa", "lambda"],
    );
    assert.equal(plan.errors[2]!.message, plan.errors[1]!.message);
    assert.match(
      plan.errors[1]!.message,
      new RegExp(
        "^host h1 \\(ssh h1\\): po: remote: protocol 1 was asked, but this po \\(\\S+\\) speaks protocol 2; " +
          "install the same po on both machines$",
      ),
    );
    assert.match(
      plan.errors[0]!.message,
      new RegExp(
        "^host h2 \\(ssh h2\\): its po \\(\\S+no-such-po\\) does not run there: .*No such file or directory.*; " +
          "install po there, or set po = \\[\\.\\.\\.\\] in \\[hosts\\.h2\\]$",
      ),
    );
    assert.deepEqual([x.sessions("h1"), x.sessions("h2")], [["gamma-a", "kappa-a"], ["delta-a"]]);

    // with po back on both hosts, the project that left fleet.toml while running on h1 is stopped there
    x.po.h1 = [process.execPath, CLI];
    x.po.h2 = [process.execPath, CLI];
    x.writeFleet({
      gamma: { host: "h1", ref: "v0.1.0", enabled: true },
      delta: { host: "h2", ref: "v0.1.0", enabled: true },
    });
    const back = po("plan", "--json");
    assert.equal(back.code, 0, back.stderr);
    const actions = (
      JSON.parse(back.stdout) as { actions: { project: string; kind: string; host?: string; removed?: boolean }[] }
    ).actions;
    assert.deepEqual(
      actions.map((a) => [a.project, a.kind, a.host, a.removed]),
      [["kappa", "stop", "h1", true]],
    );
    const applied = po("apply", "--yes");
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    assert.deepEqual(x.sessions("h1"), ["gamma-a"]);
  });
});
