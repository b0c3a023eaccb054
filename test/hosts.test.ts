// Fleets across machines over real OpenSSH (test/support/sshd.ts): projects here and on two hosts,
// each host its own sshd, tmux server and po state, planned and applied together; pin, start and
// stop on a host; one host down while the others converge.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sshdSkip } from "./support/sshd.js";
import { hostsWorld, type HostsWorld } from "./support/hosts-world.js";

interface PlanJson {
  actions: { project: string; kind: string; host?: string }[];
  errors: { project: string; message: string }[];
}

const kinds = (plan: PlanJson) => plan.actions.map((a) => `${a.project}${a.host ? `@${a.host}` : ""}:${a.kind}`);

describe("a fleet across machines over OpenSSH", { skip: sshdSkip(), timeout: 240_000 }, () => {
  let x: HostsWorld;
  let logins0 = 0;
  /** logins h1's sshd accepted so far (each new ssh connection authenticates once) */
  const logins = () =>
    readFileSync(join(x.w.root, "ssh", "sshd-h1.log"), "utf8").split("Accepted publickey").length - 1;
  before(async () => {
    x = await hostsWorld("po-hosts-");
    x.make("alpha", undefined, "v0.1.0");
    x.make("gamma", "h1", "v0.1.0");
    x.make("delta", "h2", "v0.1.0");
    logins0 = logins();
  });
  after(async () => {
    await x?.dispose();
  });

  const po = (...args: string[]) => x.w.po(args, { timeoutMs: 120_000 });
  const tagCommit = (tag: string) => x.w.git(x.w.harnessUrl, "rev-parse", `${tag}^{commit}`).trim();
  const pinOf = (name: string) => x.w.git(x.dir(name), "ls-tree", "HEAD", "engine").split(/\s+/)[2];

  it("plans local and remote projects together, each action marked with its host, changing nothing", () => {
    x.writeFleet({
      alpha: { ref: "v0.1.0", enabled: true },
      gamma: { host: "h1", ref: "v0.2.0", enabled: true },
      delta: { host: "h2", ref: "v0.1.0", enabled: true },
    });
    assert.equal(po("validate").code, 0, po("validate").stderr);
    const r = po("plan", "--json");
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as PlanJson;
    assert.deepEqual(kinds(plan), ["alpha:start", "delta@h2:start", "gamma@h1:pin", "gamma@h1:start"]);
    assert.deepEqual(plan.errors, []);
    // the pin's commit is named by the tag h1's po found for it, as a local pin is
    assert.match(po("plan").stdout, /^gamma@h1 +~ pin h v0\.1\.0 → v0\.2\.0 \([0-9a-f]{7} → [0-9a-f]{7}\)$/m);
    assert.deepEqual([x.sessions(""), x.sessions("h1"), x.sessions("h2")], [[], [], []]);
    assert.equal(pinOf("gamma"), tagCommit("v0.1.0"));
  });

  it("applies them together: sessions on their own hosts, the pin committed on h1, journaled with hosts", () => {
    const r = po("apply", "--yes");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(x.sessions(""), ["alpha-a"]);
    assert.deepEqual(x.sessions("h1"), ["gamma-a"]);
    assert.deepEqual(x.sessions("h2"), ["delta-a"]);
    assert.equal(pinOf("gamma"), tagCommit("v0.2.0"));
    assert.equal(x.w.git(x.dir("gamma"), "show", "--name-only", "--format=", "HEAD").trim(), "engine");
    const journal = readFileSync(join(x.w.root, ".ao-state", "journal.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean);
    const ends = journal.map((l) => JSON.parse(l)).filter((l) => l.event === "end");
    const seen = ends.map((l) => `${l.project}@${l.host ?? ""}:${l.action}:${l.outcome}`).sort();
    assert.deepEqual(seen, ["alpha@:start:ok", "delta@h2:start:ok", "gamma@h1:pin:ok", "gamma@h1:start:ok"]);
    // each host's po journals what it did there, under its own state folder
    const h1 = readFileSync(join(x.w.root, "state-h1", "po", "journal.jsonl"), "utf8");
    assert.deepEqual(
      h1
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .filter((l) => l.event === "end")
        .map((l) => `${l.project}:${l.action}`),
      ["gamma:pin", "gamma:start"],
    );
    const again = po("plan", "--detailed-exitcode");
    assert.equal(again.code, 0, again.stdout + again.stderr);
  });

  it("stops a project on a host, and status shows where each project lives", () => {
    x.writeFleet({
      alpha: { ref: "v0.1.0", enabled: true },
      gamma: { host: "h1", ref: "v0.2.0", enabled: false },
      delta: { host: "h2", ref: "v0.1.0", enabled: true },
    });
    const plan = JSON.parse(po("plan", "--json").stdout) as PlanJson;
    assert.deepEqual(kinds(plan), ["gamma@h1:stop"]);
    const r = po("apply", "--yes");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(x.sessions("h1"), []);
    assert.deepEqual(x.sessions("h2"), ["delta-a"]);
    const status = JSON.parse(po("status", "--json").stdout) as { projects: { name: string; host?: string }[] };
    assert.deepEqual(
      status.projects.map((p) => `${p.name}@${p.host ?? ""}`),
      ["alpha@", "delta@h2", "gamma@h1"],
    );
    // every po call so far went through one multiplexed connection per host: one handshake for h1
    assert.equal(logins() - logins0, 1);
  });

  it("one host down: its projects are errors naming it, the others converge, exit 1", async () => {
    await x.hosts.stop("h2");
    x.writeFleet({
      alpha: { ref: "v0.1.0", enabled: false },
      gamma: { host: "h1", ref: "v0.1.0", enabled: true },
      delta: { host: "h2", ref: "v0.1.0", enabled: false },
    });
    const p = po("plan", "--json");
    assert.equal(p.code, 1, p.stderr);
    const plan = JSON.parse(p.stdout) as PlanJson;
    assert.deepEqual(kinds(plan), ["alpha:stop", "gamma@h1:pin", "gamma@h1:start"]);
    assert.equal(plan.errors.length, 1);
    assert.equal(plan.errors[0]!.project, "delta");
    assert.match(plan.errors[0]!.message, /^host h2 \(ssh h2\) cannot be reached: .*Connection refused/);
    const r = po("apply", "--yes");
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^delta +! error: host h2 \(ssh h2\) cannot be reached/m);
    assert.deepEqual(x.sessions(""), []);
    assert.deepEqual(x.sessions("h1"), ["gamma-a"]);
    assert.equal(pinOf("gamma"), tagCommit("v0.1.0"));
    assert.deepEqual(x.sessions("h2"), ["delta-a"], "h2's session was left alone");

    const hosts = po("hosts", "--json");
    assert.equal(hosts.code, 1, hosts.stderr);
    const rows = (JSON.parse(hosts.stdout) as { hosts: { name: string; reachable: boolean; error?: string }[] }).hosts;
    assert.deepEqual(
      rows.map((h) => [h.name, h.reachable]),
      [
        ["h1", true],
        ["h2", false],
      ],
    );
    assert.match(rows[1]!.error!, /^host h2 \(ssh h2\) cannot be reached: .*Connection refused/);

    await x.hosts.start("h2");
    const back = po("apply", "--yes");
    assert.equal(back.code, 0, back.stdout + back.stderr);
    assert.deepEqual(x.sessions("h2"), []);
  });
});
