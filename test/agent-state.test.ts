// Agent state you can trust: the watchdog gives up on a crash loop (failed, its exit status and log,
// one agent.failed to notify, reset by up); an agent's own report (waiting, told to notify); the
// harness status argv in po status (--detailed-exitcode 2 on failed, malformed lines noted); a pane
// whose process died in a session kept open is dead for status and plan, and apply replaces it; a
// failed start names its cause. Real tmux (an isolated server), real processes, no sleeps.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { onDead, onStarted, type HealRecord } from "../src/agents/heal.js";
import { parseStatusLines } from "../src/observe/agent-state.js";
import { notify } from "../src/common/notify.js";
import {
  FAILING_START_TIMEOUT_S,
  jsonIfPresent,
  makeProject,
  makeWorld,
  panePid,
  until,
  writeFleet,
  type World,
} from "./support/world.js";

describe("the give-up rule (pure)", () => {
  const limit = { maxRestarts: 2, windowMs: 60_000 };
  it("gives up when it dies again after max_restarts restarts within the window", () => {
    let rec: HealRecord = { restarts: 0, quickDeaths: 0 };
    rec = onStarted(onDead(rec, 0, 1000, limit).rec, 0);
    rec = onStarted(onDead(rec, 20_000, 1000, limit).rec, 20_000);
    const step = onDead(rec, 40_000, 1000, limit);
    assert.equal(step.action, "fail");
    assert.equal(step.action === "fail" && step.reason, "died again after 2 restarts within 60 s");
    assert.equal(step.rec.failedSince, 40_000);
    assert.equal(onDead(step.rec, 50_000, 1000, limit).action, "wait", "a failed agent waits for up");
  });
  it("restarts outside the window do not count", () => {
    let rec: HealRecord = { restarts: 0, quickDeaths: 0 };
    rec = onStarted(onDead(rec, 0, 1000, limit).rec, 0);
    rec = onStarted(onDead(rec, 30_000, 1000, limit).rec, 30_000);
    assert.equal(onDead(rec, 70_000, 1000, limit).action, "start");
  });
});

describe("parseStatusLines: the harness status format", () => {
  const table: [string, string, Record<string, unknown>, number][] = [
    [
      "one agent",
      '{"agent":"main","state":"waiting","since":"T","detail":"d"}',
      { main: { state: "waiting", since: "T", detail: "d" } },
      0,
    ],
    ["an unknown state is kept as given", '{"agent":"a","state":"thinking"}', { a: { state: "thinking" } }, 0],
    [
      "restarts, when a number",
      '{"agent":"a","state":"idle","restarts":2,"x":1}',
      { a: { state: "idle", restarts: 2 } },
      0,
    ],
    ["not JSON: skipped with a note", 'hello\n{"agent":"a","state":"idle"}', { a: { state: "idle" } }, 1],
    ["no state: skipped with a note", '{"agent":"a"}', {}, 1],
  ];
  for (const [name, text, want, notes] of table)
    it(name, () => {
      const r = parseStatusLines(text);
      assert.deepEqual(Object.fromEntries(r.lines), want);
      assert.equal(r.notes.length, notes);
    });
});

/** po agents status --json of `dir`: one line per agent. */
function agentLines(w: World, dir: string): Record<string, any>[] {
  const r = w.po(["agents", "status", "--json", "--dir", dir]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** The notify events in `file` so far: its complete lines (the last, unterminated one is still being written). */
function events(file: string): Record<string, any>[] {
  const lines = existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(0, -1) : [];
  return lines.map((l) => JSON.parse(l));
}
const lineCount = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").length - 1 : 0);
const checks = (dir: string) => jsonIfPresent<{ checks: number }>(join(dir, ".ao-state", "agents.json"))?.checks ?? -1;

describe("po agents: the watchdog gives up, agents report", () => {
  let w: World;
  let dir: string;
  let ev: string;
  let starts: string;
  before(() => {
    w = makeWorld("po-agent-state-");
    dir = join(w.root, "crew");
    mkdirSync(dir);
    ev = join(w.root, "events.jsonl");
    starts = join(w.root, "starts");
    writeFileSync(
      join(dir, "agents.toml"),
      `[watchdog]\ninterval_s = 1\nmax_restarts = 2\nnotify = ["sh", "-c", "cat >>'${ev}'"]\n\n` +
        `[agents.crash]\ncommand = ["sh", "-c", "echo start >>'${starts}'; echo boom; exit 3"]\nwatch = "heal"\n\n` +
        `[agents.main]\ncommand = ["sleep", "3600"]\n`,
    );
  });
  after(() => {
    w?.po(["agents", "down", "--dir", dir]);
    w?.cleanup();
  });

  it("marks a crash-looping agent failed with its exit status and log, tells notify once, restarts it no more", async () => {
    const up = w.po(["agents", "up", "--dir", dir]);
    assert.equal(up.code, 0, up.stderr);
    await until(() => agentLines(w, dir)[0].state === "failed", 30_000, "crash to be failed");
    const [crash] = agentLines(w, dir);
    assert.equal(crash.agent, "crash");
    assert.equal(crash.live, false);
    assert.equal(crash.restarts, 2);
    assert.equal(crash.detail, "exit status 3; log ends: boom | boom | boom");
    assert.equal(lineCount(starts), 3, "started by up, then restarted twice");
    const seen = checks(dir);
    await until(() => checks(dir) >= seen + 3, 15_000, "three more watchdog checks");
    assert.equal(lineCount(starts), 3, "not started again after it failed");
    const failed = events(ev).filter((e) => e.event === "agent.failed");
    assert.equal(failed.length, 1);
    assert.deepEqual([failed[0].project, failed[0].agent], ["crew", "crash"]);
    assert.match(failed[0].detail, /^died again after 2 restarts within 600 s; last exit status 3; its log ends: boom/);
  });

  it("po agents up resets it: it is started again", async () => {
    assert.equal(w.po(["agents", "up", "--dir", dir]).code, 0);
    await until(() => lineCount(starts) >= 4, 10_000, "crash to start again");
    // it loops again and is given up on again: a second event, for a second failure
    await until(() => agentLines(w, dir)[0].state === "failed", 30_000, "crash to be failed again");
    await until(() => events(ev).length === 2, 10_000, "the second agent.failed");
    const again = events(ev)[1];
    assert.equal(again.event, "agent.failed");
    assert.match(again.detail, /^died again after 2 restarts within 600 s; last exit status 3/);
    // up's own start, then the watchdog's two restarts; or, when the watchdog's check (which sees the
    // reset) reaches the dead session first, its start stands for up's (up then finds it running)
    assert.ok([5, 6].includes(lineCount(starts)), `started ${lineCount(starts)} times in all`);
  });

  it("po agents report main waiting: status shows it, notify gets agent.waiting", () => {
    const r = w.po(["agents", "report", "main", "waiting", "--detail", "a question", "--dir", dir]);
    assert.equal(r.code, 0, r.stderr);
    const main = agentLines(w, dir)[1];
    assert.deepEqual([main.agent, main.state, main.detail, main.live], ["main", "waiting", "a question", true]);
    assert.match(w.po(["agents", "status", "--dir", dir]).stdout, /^main +\S+ +live +waiting \(a question\) /m);
    const waiting = events(ev).filter((e) => e.event === "agent.waiting");
    assert.deepEqual(
      waiting.map((e) => [e.project, e.agent, e.detail]),
      [["crew", "main", "a question"]],
    );
  });

  it("refuses an unknown agent or state in one line", () => {
    const a = w.po(["agents", "report", "nobody", "waiting", "--dir", dir]);
    assert.equal(a.code, 1);
    assert.equal(a.stderr, `po: agents report: no agent 'nobody' in ${join(dir, "agents.toml")} (crash, main)\n`);
    const b = w.po(["agents", "report", "main", "sleepy", "--dir", dir]);
    assert.equal(b.code, 1);
    assert.equal(
      b.stderr,
      "po: agents report: unknown state 'sleepy'; say one of starting, working, waiting, idle, failed, stopped\n",
    );
  });
});

describe("po status and plan: the harness's status, dead panes, the cause of a failed start", () => {
  let w: World;
  let states: string;
  before(() => {
    w = makeWorld("po-status-state-");
    states = join(w.root, "states");
    mkdirSync(states);
    makeProject(w, "alpha", "v0.1.0", ["main"]);
    // the status argv: what the state file says, or a malformed line when it says so
    const status = `["sh", "-c", "cat '${states}'/$(basename $PWD) 2>/dev/null || echo '{\\"agent\\":\\"main\\",\\"state\\":\\"working\\"}'"]`;
    const fleet = readFileSync(writeFleet(w, { alpha: { ref: "v0.1.0" } }), "utf8");
    writeFileSync(join(w.root, "fleet.toml"), fleet.replace(/^status = .*$/m, `status = ${status}`));
  });
  after(() => {
    w?.po(["agents", "down", "--dir", join(w.root, "alpha")]);
    w?.cleanup();
  });

  const say = (line: string) => writeFileSync(join(states, "alpha"), `${line}\n`);

  it("shows what the harness reports; --detailed-exitcode is 2 when an agent failed", () => {
    assert.equal(w.po(["apply", "--yes"]).code, 0);
    let r = w.po(["status", "--detailed-exitcode"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^alpha +main +live +working +- +\d+s +- *$/m);
    say('{"agent":"main","state":"waiting","since":"2026-12-01T10:00:00Z","detail":"asks about X"}');
    r = w.po(["status", "--detailed-exitcode"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^alpha +main +live +waiting \(asks about X\) +2026-12-01T10:00:00Z /m);
    say('{"agent":"main","state":"failed"}');
    assert.equal(w.po(["status", "--detailed-exitcode"]).code, 2);
    const json = JSON.parse(w.po(["status", "--json"]).stdout);
    assert.deepEqual(
      json.projects[0].agents.map((a: any) => [a.agent, a.session, a.live, a.state]),
      [["main", "alpha-main", true, "failed"]],
    );
  });

  it("--no-harness shows what tmux knows only; a malformed line is a note", () => {
    say("not json");
    let r = w.po(["status"]);
    assert.equal(r.stderr, 'po: note: alpha: harness status line 1 ignored (not {"agent": …, "state": …}): not json\n');
    assert.match(r.stdout, /^alpha +main +live +- +- /m);
    r = w.po(["status", "--no-harness", "--detailed-exitcode"]);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, "");
    say('{"agent":"main","state":"working"}');
  });

  it("a pane whose process died in a session kept open is dead: plan starts it, apply replaces it", async () => {
    assert.equal(w.tmux("set-option", "-t", "=alpha-main:", "remain-on-exit", "on").code, 0);
    const pid = panePid(w, "alpha-main");
    process.kill(Number(pid), "SIGKILL");
    const paneDead = () => w.tmux("display-message", "-p", "-t", "=alpha-main:", "#{pane_dead}").stdout.trim();
    await until(() => paneDead() === "1", 10_000, "the pane to die");
    assert.deepEqual(w.sessions(), ["alpha-main"], "the session is still there");
    const s = w.po(["status", "--json", "--detailed-exitcode"]);
    assert.equal(s.code, 2);
    assert.equal(JSON.parse(s.stdout).projects[0].agents[0].live, false);
    const plan = JSON.parse(w.po(["plan", "--json"]).stdout);
    assert.deepEqual(
      plan.actions.map((a: any) => [a.project, a.kind]),
      [["alpha", "start"]],
    );
    assert.equal(w.po(["apply", "--yes"]).code, 0);
    assert.equal(paneDead(), "0");
    assert.notEqual(panePid(w, "alpha-main"), pid);
  });

  it("a failed start names its cause: the agent's log, in the text, --json and the journal; notify gets apply.failed", () => {
    const ev = join(w.root, "apply-events");
    const dir = join(w.root, "alpha");
    assert.equal(w.po(["stop", "alpha", "--yes"]).code, 0);
    writeFileSync(
      join(dir, "agents.toml"),
      '[agents.main]\ncommand = ["sh", "-c", "echo cannot find the model >&2; exit 4"]\n',
    );
    const fleet = readFileSync(join(w.root, "fleet.toml"), "utf8")
      .replace("timeout_s = 30", `timeout_s = ${FAILING_START_TIMEOUT_S}`)
      .replace("version = 1\n", `version = 1\nnotify = ["sh", "-c", "cat >>'${ev}'"]\n`)
      .replace("enabled = false", "enabled = true");
    writeFileSync(join(w.root, "fleet.toml"), fleet);
    const r = w.po(["apply", "--yes", "--json"]);
    assert.equal(r.code, 1);
    const cause = "main's log ends: cannot find the model";
    const result = JSON.parse(r.stdout).results.find((x: any) => x.action.kind === "start");
    assert.ok(result.error.includes(`(alpha-main not live): ${cause}; harness down was run`), result.error);
    const journal = readFileSync(join(w.root, ".ao-state", "journal.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(journal.filter((l) => l.event === "end" && l.outcome === "failed").at(-1).error, result.error);
    const told = events(ev);
    assert.deepEqual(
      told.map((e) => [e.event, e.project]),
      [["apply.failed", "alpha"]],
    );
    assert.equal(told[0].detail, `start: ${result.error}`);
  });
});

describe("the notify runner", () => {
  let w: World;
  before(() => (w = makeWorld("po-notify-")));
  after(() => w?.cleanup());
  const event = { event: "agent.failed" as const, project: "p", agent: "a", time: "T", detail: "d" };
  it("gives the event as one JSON line on stdin", async () => {
    const out = join(w.root, "got");
    assert.equal(await notify(["sh", "-c", `cat >'${out}'`], event, w.root), undefined);
    assert.equal(
      readFileSync(out, "utf8"),
      '{"event":"agent.failed","project":"p","agent":"a","time":"T","detail":"d"}\n',
    );
  });
  it("a failing or missing notify is a message, never an exception", async () => {
    assert.equal(
      await notify(["sh", "-c", "echo no route >&2; exit 6"], event, w.root),
      "notify sh -c echo no route >&2; exit 6 failed (exit 6): no route",
    );
    assert.match(
      (await notify(["no-such-notifier-xyz"], event, w.root))!,
      /^notify no-such-notifier-xyz could not run: .*ENOENT/,
    );
  });
});
