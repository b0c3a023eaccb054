// The reading verbs of a fleet whose projects all live on other hosts, over real OpenSSH: outdated
// --offline from po's mirror (or one line saying how to make it), list, get, history and show naming
// each project's host, and po hosts telling a host whose po answers garbage from one it cannot reach.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { sshdSkip } from "./support/sshd.js";
import { hostsWorld, type HostsWorld } from "./support/hosts-world.js";
import { CLI, oneLine } from "./support/world.js";

interface HostRow {
  name: string;
  reachable: boolean;
  error?: string;
}

describe("reading verbs of projects that all live on other hosts", { skip: sshdSkip(), timeout: 240_000 }, () => {
  let x: HostsWorld;
  const po = (...args: string[]) => x.w.po(args, { timeoutMs: 120_000 });
  const fleet = (gammaEnabled = true) =>
    x.writeFleet({
      gamma: { host: "h1", ref: "v0.1.0", enabled: gammaEnabled },
      delta: { host: "h2", ref: "v0.1.0", enabled: false },
    });

  before(async () => {
    x = await hostsWorld("po-hosts-read-");
    x.make("gamma", "h1", "v0.1.0");
    x.make("delta", "h2", "v0.1.0");
    fleet();
  });
  after(async () => {
    await x?.dispose();
  });

  it("po outdated --offline reads the tags from po's mirror of the harness, or says in one line how to make it", () => {
    const first = po("outdated", "--offline");
    assert.equal(first.code, 1, first.stdout);
    assert.match(
      oneLine(first.stderr),
      /^po: --offline: harness 'h' has no checkout on this machine and po has no mirror of it yet \(\/.*\/\.ao-state\/harnesses\/h-[0-9a-f]{12}\.git\); run once without --offline$/,
    );
    const online = po("outdated", "--json");
    assert.equal(online.code, 2, online.stderr);
    const offline = po("outdated", "--offline", "--json");
    assert.equal(offline.code, 2, offline.stderr);
    assert.deepEqual(JSON.parse(offline.stdout), JSON.parse(online.stdout));
    const behind = Number(x.w.git(x.w.harnessUrl, "rev-list", "--count", "v0.1.0..v0.2.0").trim());
    const rows = (JSON.parse(offline.stdout) as { projects: Record<string, unknown>[] }).projects;
    assert.deepEqual(
      rows.map((r) => [r.project, r.host, r.pinnedTag, r.newest, r.behind, r.outdated]),
      [
        ["delta", "h2", "v0.1.0", "v0.2.0", behind, true],
        ["gamma", "h1", "v0.1.0", "v0.2.0", behind, true],
      ],
    );
  });

  it("a runtime folder too long for ssh's temporary socket name is passed over, and the plan still reaches the hosts", () => {
    // 50 bytes: "/po-ssh/%C" fits in a socket path, but not the name the master binds first (17 more)
    const base = join(x.w.root, "r");
    const long = base + "x".repeat(50 - "/po-ssh".length - base.length);
    mkdirSync(long, { recursive: true, mode: 0o700 });
    assert.equal(join(long, "po-ssh").length, 50);
    const r = x.w.po(["plan", "--json"], { timeoutMs: 120_000, env: { ...x.w.env, XDG_RUNTIME_DIR: long } });
    assert.deepEqual(JSON.parse(r.stdout).errors, [], r.stderr);
    assert.equal(r.code, 0, r.stderr);
  });

  it("list, get, history and show name the host of each project", () => {
    const applied = po("apply", "--yes");
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    assert.match(po("list").stdout, /^gamma@h1 +enabled +h@v0\.1\.0 +~\/gamma$/m);
    const list = JSON.parse(po("list", "--json").stdout) as { name: string; host?: string }[];
    assert.deepEqual(
      list.map((p) => [p.name, p.host]),
      [
        ["delta", "h2"],
        ["gamma", "h1"],
      ],
    );
    const get = po("get", "gamma");
    assert.match(get.stdout, /^host +h1 \(ssh h1\)\nlocation +~\/gamma$/m);
    assert.equal((JSON.parse(po("get", "gamma", "--json").stdout) as { host?: string }).host, "h1");

    assert.match(po("history").stdout, /^\S+ +[0-9a-f]{8} +apply +gamma@h1: start +converged /m);
    const [last] = JSON.parse(po("history", "--json").stdout) as { plan: string; actions: Record<string, unknown>[] }[];
    assert.deepEqual(
      last!.actions.map((a) => [a.project, a.host, a.action, a.outcome]),
      [["gamma", "h1", "start", "ok"]],
    );
    assert.match(po("history", last!.plan).stdout, /^gamma@h1 +start +ok /m);

    fleet(false);
    const file = join(x.w.root, "stop.plan.json");
    assert.equal(po("plan", "--out", file).code, 0);
    const show = po("show", file);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^gamma@h1 +- stop/m);
    fleet();
  });

  it("po hosts: a host whose po answers garbage or another protocol is reachable, with the error", () => {
    const hosts = () => {
      const r = po("hosts", "--json");
      assert.equal(r.code, 1, r.stderr);
      return (JSON.parse(r.stdout) as { hosts: HostRow[] }).hosts;
    };
    const fix = "install the same po on both machines, or set po = \\[\\.\\.\\.\\] in \\[hosts\\.h2\\]";
    try {
      x.po.h2 = ["sh", "-c", "echo not json"];
      fleet();
      const [h1, h2] = hosts();
      assert.deepEqual(
        [h1, h2].map((h) => [h!.name, h!.reachable, h!.error === undefined]),
        [
          ["h1", true, true],
          ["h2", true, false],
        ],
      );
      const garbage = new RegExp(`^po on h2 answered something that is not protocol 1: not json; ${fix}$`);
      assert.match(h2!.error!, garbage);
      const text = po("hosts");
      assert.match(text.stdout, /^h2 +h2 +yes +- +- +- +delta$/m);
      assert.match(oneLine(text.stderr), new RegExp(`^po: ${garbage.source.slice(1)}`));

      x.po.h2 = ["sh", "-c", `echo '{"protocol":2,"po":"9.9.9"}'`];
      fleet();
      const [, other] = hosts();
      assert.equal(other!.reachable, true);
      assert.match(
        other!.error!,
        new RegExp(
          `^po on h2 \\(9\\.9\\.9\\) answered in protocol 2, but this po \\([^)]+\\) speaks protocol 1; ${fix}$`,
        ),
      );
    } finally {
      x.po.h2 = [process.execPath, CLI];
      fleet();
    }
  });
});
