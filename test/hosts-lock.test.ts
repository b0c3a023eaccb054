// A host's own apply lock, po hosts, and a host whose po speaks another protocol or is missing,
// over real OpenSSH (test/support/sshd.ts).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { sshdSkip } from "./support/sshd.js";
import { hostsWorld, type HostsWorld } from "./support/hosts-world.js";
import { CLI } from "./support/world.js";

describe("host locks and protocol versions over OpenSSH", { skip: sshdSkip(), timeout: 240_000 }, () => {
  let x: HostsWorld;
  before(async () => {
    x = await hostsWorld("po-hosts-lock-");
    x.make("gamma", "h1", "v0.1.0");
    x.make("delta", "h2", "v0.1.0");
  });
  after(async () => {
    await x?.dispose();
  });

  const po = (...args: string[]) => x.w.po(args, { timeoutMs: 120_000 });
  const lockFile = () => join(x.w.root, "state-h1", "po", "apply.lock");

  it("a host whose lock another apply holds: its actions fail naming the host and the holder, nothing runs there", () => {
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
        `^po: gamma: start failed: host h1 \\(ssh h1\\): po: another apply holds the lock ${lockFile()} \\(pid ${process.pid} on `,
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
    assert.deepEqual(
      plan.errors.map((e) => e.project),
      ["delta", "gamma"],
    );
    assert.match(
      plan.errors[1]!.message,
      /^host h1 \(ssh h1\): po: remote: protocol 1 was asked, but this po \(\S+\) speaks protocol 2; install the same po on both machines$/,
    );
    assert.match(
      plan.errors[0]!.message,
      /^host h2 \(ssh h2\): its po \(\S+no-such-po\) does not run there: .*No such file or directory.*; install po there, or set po = \[\.\.\.\] in \[hosts\.h2\]$/,
    );
    assert.deepEqual([x.sessions("h1"), x.sessions("h2")], [["gamma-a"], ["delta-a"]]);
  });
});
