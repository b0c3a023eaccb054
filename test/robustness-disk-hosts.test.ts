// A full disk across hosts, over real OpenSSH: a host's state folder fills mid-apply (its po tells
// the caller what it did and could not record, one line each, naming the host, and starts nothing
// new), and this machine's fills while hosts apply (they start nothing new either, and say why).
// Each disk is a small tmpfs (root only: skipped otherwise), filled while a gated harness holds on.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sshdSkip } from "./support/sshd.js";
import { hostsWorld, type HostsWorld } from "./support/hosts-world.js";
import { until } from "./support/world.js";
import { gate, journalOf, poBackground, stopBackground, type Gate } from "./support/apply-world.js";
import { fill, mountSmall, poLines } from "./support/disk.js";

const SKIPPED = /^lambda: start skipped \(0\.0s\): po could not record the apply's state$/m;

describe("apply with a full disk, across hosts", { skip: sshdSkip(), timeout: 240_000 }, () => {
  let x: HostsWorld;
  const hostState = () => join(x.w.root, "state-h1", "po");
  before(async () => {
    x = await hostsWorld("po-disk-hosts-");
    x.make("alpha", undefined, "v0.1.0");
    x.make("kappa", "h1", "v0.1.0");
    x.make("lambda", "h1", "v0.1.0");
    x.make("mu", "h2", "v0.1.0");
  });
  after(async () => {
    await stopBackground();
    await x?.dispose();
  });

  /** harness up, held at `gates[project]` for the projects named there */
  const gatedUp = (gates: Record<string, Gate>) => [
    "sh",
    "-c",
    `case "$PWD" in ${Object.entries(gates)
      .map(([n, g]) => `*/${n}) ${g.wait};;`)
      .join(" ")} esac; exec node engine/harness.mjs up`,
  ];
  // complete lines only (one being appended is left out), and not the newlines that filled the disk
  const hostJournal = () =>
    readFileSync(join(hostState(), "journal.jsonl"), "utf8")
      .split("\n")
      .slice(0, -1)
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { event: string; project?: string; outcome?: string; error?: string });
  /** no agent running, here or on a host */
  const fresh = () => {
    x.w.tmux("kill-server");
    for (const h of ["h1", "h2"]) x.hosts.onHost(h, ["tmux", "kill-server"]);
  };

  it("a host's disk fills mid-apply: each write it could not make is told, naming the host; nothing new starts there", async (t) => {
    if (!mountSmall(t, hostState())) return;
    fresh();
    const g = gate(x.w, "kappa");
    x.writeFleet(
      { kappa: { host: "h1", ref: "v0.1.0", enabled: true }, lambda: { host: "h1", ref: "v0.1.0", enabled: true } },
      { up: gatedUp({ kappa: g }) },
    );
    const run = poBackground(x.w, ["apply", "--yes", "--parallelism", "1"]);
    await until(() => existsSync(g.reached), 60_000, "kappa's up on h1 to reach its gate");
    fill(hostState(), [join(hostState(), "journal.jsonl")]);
    g.open();
    const r = await run.done;
    g.close();
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.ok(
      poLines(r.stderr).includes(
        `po: host h1: kappa: start ok, but it could not be recorded in ${hostState()}/journal.jsonl: no space left on device`,
      ),
      r.stderr,
    );
    assert.match(r.stdout, /^kappa: start ok/m);
    assert.match(r.stdout, SKIPPED);
    assert.deepEqual(x.sessions("h1"), ["kappa-a"], "kappa's agent runs on h1 (tmux), lambda's was not started");
    assert.equal(existsSync(join(hostState(), "apply.lock")), false, "h1's lock was released");
  });

  it("this machine's disk fills while hosts apply: they start nothing new, also one still waiting its turn", async (t) => {
    const state = join(x.w.root, ".ao-state");
    if (!mountSmall(t, state)) return;
    fresh();
    const [here, there] = [gate(x.w, "alpha"), gate(x.w, "kappa2")];
    x.writeFleet(
      {
        alpha: { ref: "v0.1.0", enabled: true },
        kappa: { host: "h1", ref: "v0.1.0", enabled: true },
        lambda: { host: "h1", ref: "v0.1.0", enabled: true },
        mu: { host: "h2", ref: "v0.1.0", enabled: true },
      },
      { up: gatedUp({ alpha: here, kappa: there }) },
    );
    // one host at a time: h2 is called only once h1 is done, after the disk filled here
    const run = poBackground(x.w, ["apply", "--yes", "--parallelism", "1", "--hosts-parallelism", "1"]);
    await until(
      () => existsSync(here.reached) && existsSync(there.reached),
      60_000,
      "alpha's up here and kappa's up on h1 to reach their gates",
    );
    // kappa's start journaled here first: the one write that fails is the end of alpha's
    await until(
      () => journalOf(x.w).some((l) => l.event === "start" && l.project === "kappa"),
      30_000,
      "kappa's start journaled here",
    );
    const before = hostJournal().length;
    fill(state, [join(state, "journal.jsonl")]);
    here.open();
    await until(
      () =>
        hostJournal()
          .slice(before)
          .some((l) => l.event === "interrupted"),
      30_000,
      "h1 to hear that nothing new may start",
    );
    there.open();
    const r = await run.done;
    [here, there].forEach((g) => g.close());
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.ok(
      poLines(r.stderr).includes(
        `po: alpha: start ok, but it could not be recorded in ${state}/journal.jsonl: no space left on device`,
      ),
      r.stderr,
    );
    assert.match(r.stdout, SKIPPED);
    assert.match(r.stdout, /^mu: start skipped \(0\.0s\): po could not record the apply's state$/m);
    assert.deepEqual(
      hostJournal()
        .slice(before)
        .filter((l) => l.event === "end" || l.event === "interrupted")
        .map((l) => [l.event, l.project, l.outcome, l.error].filter(Boolean).join(" ")),
      [
        "interrupted po could not record the apply's state",
        "end kappa ok",
        "end lambda skipped skipped: po could not record the apply's state",
      ],
    );
    assert.deepEqual(x.sessions("h1"), ["kappa-a"], "lambda's agent was not started on h1 (tmux)");
    assert.deepEqual(x.sessions("h2"), [], "nor mu's on h2");
    assert.deepEqual(x.sessions(""), ["alpha-a"]);
  });
});
