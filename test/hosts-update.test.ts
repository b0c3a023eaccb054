// The writing verbs of projects on other hosts, over real OpenSSH (test/support/sshd.ts): po update's
// downgrade guard and --previous read a remote project's pin from its host, an unreachable host
// refuses an update in one line before fleet.toml is written, po restart acts on the host, and a
// rollout's health gate and revert, which cannot see a host, are refused for its projects.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sshdSkip } from "./support/sshd.js";
import { hostsWorld, type HostsWorld } from "./support/hosts-world.js";
import { oneLine } from "./support/world.js";

interface PlanJson {
  actions: { project: string; kind: string; host?: string; fromRef?: string; ref?: string }[];
  errors: { project: string; message: string }[];
}

describe("writing verbs of projects on other hosts", { skip: sshdSkip(), timeout: 240_000 }, () => {
  let x: HostsWorld;
  let fleet: string;
  const po = (...args: string[]) => x.w.po(args, { timeoutMs: 120_000 });
  const bytes = () => readFileSync(fleet, "utf8");
  const tag = (t: string) => x.w.git(x.w.harnessUrl, "rev-parse", `${t}^{commit}`).trim();
  const pinOf = (name: string) => x.w.git(x.dir(name), "ls-tree", "HEAD", "engine").split(/\s+/)[2];
  const paneOnH1 = (session: string) =>
    x.hosts.onHost("h1", ["tmux", "display-message", "-p", "-t", `=${session}:`, "#{pane_pid}"]).stdout.trim();
  /** The pin of `name` moved on its host by hand, behind po's back. */
  const pinByHand = (name: string, ref: string) => {
    x.w.git(join(x.dir(name), "engine"), "checkout", "-q", ref);
    x.w.git(x.dir(name), "commit", "-qam", `engine at ${ref}, by hand`);
  };

  before(async () => {
    x = await hostsWorld("po-hosts-update-");
    // a pre-release above the newest release: a project pinning it is moved down by --latest
    x.w.git(x.w.harnessUrl, "commit", "-q", "--allow-empty", "-m", "0.3.0-rc.1");
    x.w.git(x.w.harnessUrl, "tag", "v0.3.0-rc.1");
    x.make("alpha", undefined, "v0.1.0");
    x.make("gamma", "h1", "v0.1.0");
    x.make("delta", "h2", "v0.1.0");
    fleet = x.writeFleet({
      alpha: { ref: "v0.1.0", enabled: true },
      gamma: { host: "h1", ref: "v0.1.0", enabled: true },
      delta: { host: "h2", ref: "v0.1.0", enabled: false },
    });
    const r = po("update", "gamma", "v0.3.0-rc.1", "--yes");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(pinOf("gamma"), tag("v0.3.0-rc.1"));
    const all = po("apply", "--yes");
    assert.equal(all.code, 0, all.stdout + all.stderr);
  });
  after(async () => {
    await x?.dispose();
  });

  it("a downgrade of a remote project is refused as a local one, in every mode, and nothing is written", () => {
    const before = bytes();
    const refused = (to: string) =>
      `po: update: ${to} is a downgrade from v0.3.0-rc.1, which gamma pins now; pass --allow-downgrade to ` +
      "move down anyway (fleet.toml was not changed)";
    for (const args of [
      ["gamma", "v0.2.0", "--yes"],
      ["--all", "v0.2.0", "--yes"],
      ["--harness", "h", "v0.2.0", "--no-apply"],
      ["--all", "--latest", "--yes"],
      ["gamma", "v0.2.0", "--dry-run"],
    ]) {
      const r = po("update", ...args);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.equal(oneLine(r.stderr), refused("v0.2.0"), args.join(" "));
    }
    const json = po("update", "gamma", "v0.1.0", "--dry-run", "--json");
    assert.equal(json.code, 1, json.stdout + json.stderr);
    assert.equal(JSON.parse(json.stdout).error, refused("v0.1.0").slice("po: ".length));
    assert.equal(bytes(), before);
    assert.equal(pinOf("gamma"), tag("v0.3.0-rc.1"));
  });

  it("--allow-downgrade --dry-run --json: the diff and the plan of the pin on h1, named by the host's tag", () => {
    const before = bytes();
    const r = po("update", "gamma", "v0.2.0", "--allow-downgrade", "--dry-run", "--json");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as { changes: unknown[]; plan: PlanJson };
    assert.deepEqual(out.changes, [{ project: "gamma", key: "ref", old: "v0.3.0-rc.1", new: "v0.2.0" }]);
    assert.deepEqual(
      out.plan.actions.map((a) => [a.project, a.host, a.kind, a.fromRef, a.ref]),
      [
        ["gamma", "h1", "stop", undefined, undefined],
        ["gamma", "h1", "pin", "v0.3.0-rc.1", "v0.2.0"],
        ["gamma", "h1", "start", undefined, undefined],
      ],
    );
    assert.equal(bytes(), before);
  });

  it("--previous returns a remote project to the ref before its last pin, and refuses when its pin moved since", () => {
    const back = po("update", "gamma", "--previous", "--yes");
    assert.equal(back.code, 0, back.stdout + back.stderr);
    assert.equal(pinOf("gamma"), tag("v0.1.0"));
    assert.match(
      bytes(),
      /^\[projects\.gamma\]\nhost = "h1"\nlocation = "~\/gamma"\nharness = "h"\nref = "v0\.1\.0"$/m,
    );

    pinByHand("gamma", "v0.2.0");
    const before = bytes();
    const moved = po("update", "gamma", "--previous", "--yes");
    assert.equal(moved.code, 1, moved.stdout + moved.stderr);
    assert.match(
      oneLine(moved.stderr),
      /^po: update --previous: gamma pins [0-9a-f]{7} \(v0\.2\.0\) now, not [0-9a-f]{7} \(v0\.1\.0\) where its last pin in the journal left it; name the ref \(fleet\.toml was not changed\)$/,
    );
    assert.equal(bytes(), before);
    assert.equal(pinOf("gamma"), tag("v0.2.0"));
    pinByHand("gamma", "v0.1.0");
  });

  it("po restart of a remote project stops and starts its agents on its host, and nothing here", () => {
    const here = x.w.tmux("display-message", "-p", "-t", "=alpha-a:", "#{pane_pid}").stdout.trim();
    const before = paneOnH1("gamma-a");
    assert.match(before, /^\d+$/);
    const dry = po("restart", "gamma", "--dry-run", "--json");
    assert.equal(dry.code, 0, dry.stdout + dry.stderr);
    assert.deepEqual(
      (JSON.parse(dry.stdout) as { plan: PlanJson }).plan.actions.map((a) => [a.project, a.host, a.kind]),
      [
        ["gamma", "h1", "stop"],
        ["gamma", "h1", "start"],
      ],
    );
    const r = po("restart", "gamma", "--yes");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(x.sessions("h1"), ["gamma-a"]);
    assert.match(paneOnH1("gamma-a"), /^\d+$/);
    assert.notEqual(paneOnH1("gamma-a"), before);
    assert.deepEqual(x.sessions(""), ["alpha-a"]);
    assert.equal(x.w.tmux("display-message", "-p", "-t", "=alpha-a:", "#{pane_pid}").stdout.trim(), here);
    const onH1 = readFileSync(join(x.w.root, "state-h1", "po", "journal.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event: string; project?: string; action?: string; outcome?: string })
      .filter((l) => l.event === "end")
      .slice(-2);
    assert.deepEqual(
      onH1.map((l) => [l.project, l.action, l.outcome]),
      [
        ["gamma", "stop", "ok"],
        ["gamma", "start", "ok"],
      ],
    );
  });

  it("a rollout that would gate or revert a remote project is refused before writing; without either it runs", () => {
    const before = bytes();
    const refused = (verb: string) =>
      `po: ${verb}: a rollout's health gate and revert do not reach projects on other hosts (gamma@h1); ` +
      "pass --settle 0 --no-revert to roll them out in waves without either";
    for (const args of [
      ["update", "gamma", "v0.2.0", "--yes", "--settle", "1", "--no-revert"],
      ["update", "--all", "v0.2.0", "--yes", "--wave", "1"],
      ["start", "gamma", "--dry-run", "--wave", "50%"],
    ]) {
      const r = po(...args);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.equal(oneLine(r.stderr), refused(args[0]!), args.join(" "));
    }
    // stopping starts nothing, so there is nothing to gate or revert
    const stop = po("stop", "gamma", "--dry-run", "--settle", "1");
    assert.equal(stop.code, 0, stop.stdout + stop.stderr);
    assert.equal(bytes(), before);
    // the same change written by hand, then applied
    writeFileSync(fleet, before.replace(/^(\[projects\.gamma\]\n(?:.*\n)*?ref = )"v0\.1\.0"/m, '$1"v0.2.0"'));
    const apply = po("apply", "--yes", "--settle", "1");
    assert.equal(apply.code, 1, apply.stdout + apply.stderr);
    assert.equal(oneLine(apply.stderr), refused("apply"));
    assert.equal(pinOf("gamma"), tag("v0.1.0"));
    const waves = po("apply", "--yes", "--wave", "1", "--settle", "0", "--no-revert");
    assert.equal(waves.code, 0, waves.stdout + waves.stderr);
    assert.equal(pinOf("gamma"), tag("v0.2.0"));
  });

  it("a host down: update and restart refuse in one line naming it; start --dry-run exits 1", async () => {
    await x.hosts.stop("h2");
    try {
      const before = bytes();
      const down =
        /host h2 \(ssh h2\) cannot be reached: .*Connection refused; check it with ssh h2 true; fleet\.toml was not changed$/;
      for (const args of [
        ["delta", "v0.2.0", "--yes"],
        ["--all", "v0.2.0", "--dry-run"],
        ["--all", "--latest", "--no-apply"],
        ["delta", "--previous", "--yes"],
      ]) {
        const r = po("update", ...args);
        assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
        assert.match(oneLine(r.stderr), new RegExp(`^po: update: ${down.source}`), args.join(" "));
      }
      assert.equal(bytes(), before);
      // a dry run whose plan cannot see a project says so in its exit code, as po apply --dry-run does
      const start = po("start", "delta", "--dry-run");
      assert.equal(start.code, 1, start.stdout + start.stderr);
      assert.match(start.stdout, /^delta +! error: host h2 \(ssh h2\) cannot be reached/m);
      assert.equal(bytes(), before);
      // a restart that cannot see its project says so, instead of restarting nothing
      const restart = po("restart", "delta", "--yes");
      assert.equal(restart.code, 1, restart.stdout + restart.stderr);
      assert.match(
        oneLine(restart.stderr),
        /^po: restart: delta cannot be planned: host h2 \(ssh h2\) cannot be reached: /,
      );
    } finally {
      await x.hosts.start("h2");
    }
  });
});
