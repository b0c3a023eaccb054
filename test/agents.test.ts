// po agents up / down / status and the heal watchdog, against a REAL tmux server. Each test gets a
// fresh TMUX_TMPDIR (its own server), HOME and XDG_CONFIG_HOME (no user tmux.conf), and TMUX unset
// (which would otherwise name the user's server); it ends with `po agents down`, kills any watchdog
// of its folder and `tmux kill-server`. Waits poll a condition with a bound, never a bare sleep.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import {
  BACKOFF_CAP_MS,
  backoffDelayMs,
  onAlive,
  onDead,
  onStarted,
  quickWindowMs,
  type HealRecord,
} from "../src/agents/heal.js";
import { oneLine, until } from "./support/world.js";
import { watchdogPids } from "./support/proctree.js";
import {
  statusLines,
  sandbox,
  never,
  liveSessions,
  killSession,
  panePids,
  stateRestarts,
  stateChecks,
  agent,
  SLEEPERS,
  ok,
} from "./support/agents-sandbox.js";

// ---- the crash-loop rule (pure) ----

test("back-off doubles from one interval up to the cap", () => {
  assert.equal(backoffDelayMs(0, 1000), 0);
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => backoffDelayMs(n, 1000)),
    [1000, 2000, 4000, 8000],
  );
  assert.equal(backoffDelayMs(12, 30_000), BACKOFF_CAP_MS);
  assert.equal(backoffDelayMs(1000, 1000), BACKOFF_CAP_MS);
  assert.equal(quickWindowMs(1000), 10_000);
  assert.equal(quickWindowMs(30_000), 60_000);
});

test("onDead: restart at once, back off after quick deaths, wait out the back-off, reset after a stable run", () => {
  const I = 1000;
  let rec: HealRecord = { restarts: 0, quickDeaths: 0 };
  const first = onDead(rec, 0, I);
  assert.equal(first.action, "start", "a death not seen right after a start restarts at once");
  rec = onStarted(first.rec, 0);
  const quick = onDead(rec, 1000, I);
  assert.equal(quick.action, "backoff");
  assert.equal(quick.action === "backoff" && quick.delayMs, 1000);
  assert.equal(onDead(quick.rec, 1500, I).action, "wait");
  const over = onDead(quick.rec, 2000, I);
  assert.equal(over.action, "start");
  rec = onStarted(over.rec, 2000);
  const again = onDead(rec, 3000, I);
  assert.equal(again.action === "backoff" && again.delayMs, 2000, "the second quick death doubles the delay");
  rec = onStarted(onDead(again.rec, 5000, I).rec, 5000);
  assert.equal(rec.restarts, 3);
  assert.equal(onAlive(rec, 6000, I).quickDeaths, 2, "not stable yet");
  rec = onAlive(rec, 5000 + quickWindowMs(I) + 1, I);
  assert.equal(rec.quickDeaths, 0, "a stable run resets the back-off");
  assert.equal(onDead(rec, 60_000, I).action, "start");
});

// ---- the verb ----

test("agents: an unknown subcommand is one error line, --help prints usage", async (t) => {
  const s = await sandbox(t);
  const bad = await s.po("frob");
  assert.equal(bad.exitCode, 1);
  assert.match(oneLine(bad.stderr), /unknown subcommand 'frob'/);
  assert.match(await ok(s.po("--help")), /po agents up\|down\|status/);
});

test("up starts every agent; a second up duplicates nothing and starts no second watchdog", async (t) => {
  const s = await sandbox(t);
  await s.agents(`[watchdog]\ninterval_s = 1\n\n${agent("a", "heal")}\n${agent("b", "none")}\n${agent("c", "heal")}`);
  const first = JSON.parse(await ok(s.po("up", "--json")));
  assert.deepEqual(first.started, ["proj-a", "proj-b", "proj-c"]);
  assert.equal(first.watchdog.started, true);
  assert.deepEqual([...(await liveSessions())].sort(), ["proj-a", "proj-b", "proj-c"]);
  const pids = await panePids();

  const second = JSON.parse(await ok(s.po("up", "--json")));
  assert.deepEqual(second.started, []);
  assert.deepEqual(second.running, ["proj-a", "proj-b", "proj-c"]);
  assert.deepEqual(second.watchdog, { pid: first.watchdog.pid, started: false });
  assert.deepEqual(await panePids(), pids, "the same processes, nothing restarted or added");
  assert.deepEqual(watchdogPids(s.dir), [first.watchdog.pid]);
});

test("an agent gets PO_AGENT, PO_PROMPT_FILE and its exact argv; its output lands in .ao-state/logs", async (t) => {
  const s = await sandbox(t, "my.proj"); // '.' is not allowed in a tmux session name
  await mkdir(join(s.dir, "prompts"));
  await writeFile(join(s.dir, "prompts", "a.md"), "be useful\n");
  const tricky = "it's a;b #S $HOME";
  const cmd = JSON.stringify([
    "sh",
    "-c",
    `printf '%s|%s|%s|%s\\n' "$PO_AGENT" "$PO_PROMPT_FILE" "$1" "$(pwd)"; sleep 3600`,
    "sh",
    tricky,
  ]);
  await s.agents(`[agents.a]\ncommand = ${cmd}\nprompt = "prompts/a.md"\n`);
  assert.match(await ok(s.po("up")), /started my_proj-a/);
  assert.deepEqual([...(await liveSessions())], ["my_proj-a"]);
  const log = join(s.dir, ".ao-state", "logs", "a.log");
  const want = `a|${join(s.dir, "prompts", "a.md")}|${tricky}|${s.dir}`;
  await until(
    () => existsSync(log) && readFileSync(log, "utf8").includes(want),
    5000,
    "the agent's output is in its log",
  );
  assert.ok(!existsSync(join(s.dir, ".ao-state", "watchdog.pid")), "no heal agent: no watchdog");
});

test("a killed heal agent returns within two intervals; a killed none agent stays dead", async (t) => {
  const s = await sandbox(t);
  await s.agents(SLEEPERS);
  await ok(s.po("up"));
  await until(() => stateChecks(s.dir) >= 1, 15_000, "the watchdog has checked once");
  await killSession("proj-a");
  await killSession("proj-b");
  const checksAtKill = stateChecks(s.dir);
  // The watchdog saves its check count and restart records together: the count seen with a's first
  // restart is the check that healed it (or a later one, which only makes the bound stricter).
  let healedAt = -1;
  await until(
    () => (stateRestarts(s.dir, "a") >= 1 ? ((healedAt = stateChecks(s.dir)), true) : false),
    15_000,
    "the watchdog records proj-a's restart",
  );
  assert.ok(
    healedAt <= checksAtKill + 2,
    `proj-a restarted at check ${healedAt}, more than two checks after the kill (${checksAtKill})`,
  );
  assert.ok((await liveSessions()).has("proj-a"), "proj-a is back");
  await until(() => stateChecks(s.dir) >= checksAtKill + 3, 10_000, "the watchdog has checked three more times");
  assert.ok(!(await liveSessions()).has("proj-b"), "the none agent was restarted");

  const [a, b] = await statusLines(s);
  assert.deepEqual([a.agent, a.live, a.restarts, a.watch], ["a", true, 1, "heal"]);
  assert.deepEqual([b.agent, b.live, b.restarts, b.watch], ["b", false, 0, "none"]);
  assert.ok(!Number.isNaN(Date.parse(a.since!)));
  const [pid] = watchdogPids(s.dir);
  assert.match(await ok(s.po("status")), new RegExp(`watchdog: pid ${pid}, alive`));
  assert.match(
    readFileSync(join(s.dir, ".ao-state", "logs", "watchdog.log"), "utf8"),
    /Z restart a \(session proj-a\): session is dead; restart #1/,
  );
});

test("a crash-looping agent backs off: its restarts come further and further apart", async (t) => {
  const s = await sandbox(t);
  await s.agents(`[watchdog]\ninterval_s = 1\n\n${agent("loop", "heal", '["sh", "-c", "exit 1"]')}`);
  await ok(s.po("up"));
  const logFile = join(s.dir, ".ao-state", "logs", "watchdog.log");
  const restarts = () =>
    [...(existsSync(logFile) ? readFileSync(logFile, "utf8") : "").matchAll(/^(\S+) restart loop /gm)].map((m) =>
      Date.parse(m[1]),
    );
  await until(() => restarts().length >= 4, 40_000, "four restarts");
  const times = restarts();
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  for (let i = 1; i < gaps.length; i++)
    assert.ok(gaps[i] > gaps[i - 1], `restart gaps should grow: ${gaps.join(", ")} ms`);
  assert.match(
    readFileSync(logFile, "utf8"),
    /Z back-off loop \(session proj-loop\): died within .* \(2 quick deaths in a row\); next attempt in 2 s/,
  );
  assert.ok((await statusLines(s))[0].restarts >= 4);
});

test("down stops the watchdog and every session; nothing restarts them; down again is fine", async (t) => {
  const s = await sandbox(t);
  await s.agents(SLEEPERS);
  const { watchdog } = JSON.parse(await ok(s.po("up", "--json")));
  const out = JSON.parse(await ok(s.po("down", "--json")));
  assert.deepEqual(out, { stopped: ["proj-a", "proj-b"], watchdog: { pid: watchdog.pid, stopped: true } });
  assert.deepEqual([...(await liveSessions())], []);
  assert.deepEqual(watchdogPids(s.dir), []);
  assert.ok(!existsSync(join(s.dir, ".ao-state", "watchdog.pid")));
  await never("an agent session came back", async () => (await liveSessions()).size > 0, 3000);
  assert.match(await ok(s.po("down")), /watchdog: was not running\nno agent session was running/);
});

test("the watchdog ends when agents.toml has no heal agent any more", async (t) => {
  const s = await sandbox(t);
  await s.agents(SLEEPERS);
  await ok(s.po("up"));
  await s.agents(SLEEPERS.replace('"heal"', '"none"'));
  await until(() => watchdogPids(s.dir).length === 0, 10_000, "the watchdog is gone");
  assert.match(
    readFileSync(join(s.dir, ".ao-state", "logs", "watchdog.log"), "utf8"),
    /stopped: agents.toml has no agent with watch = "heal"/,
  );
  assert.ok(!existsSync(join(s.dir, ".ao-state", "watchdog.pid")));
});

test("an agents.toml with wake is refused by name and nothing starts", async (t) => {
  const s = await sandbox(t);
  await s.agents(`${SLEEPERS}wake = "1h"\n`);
  const r = await s.po("up");
  assert.equal(r.exitCode, 1);
  assert.match(r.stderr, /agents\.b\.wake/);
  assert.match(r.stderr, /'wake' is not supported/);
  assert.deepEqual([...(await liveSessions())], []);
  assert.deepEqual(watchdogPids(s.dir), []);
  assert.ok(!existsSync(join(s.dir, ".ao-state")), "nothing was even prepared");
});

// ---- the "Must show" ----

test("must show: crew with a (heal) and b (none)", async (t) => {
  const s = await sandbox(t, "crew");
  await s.agents(SLEEPERS);
  await ok(s.po("up"));
  assert.deepEqual([...(await liveSessions())].sort(), ["crew-a", "crew-b"]);
  const pids = await panePids();
  await ok(s.po("up"));
  assert.deepEqual(await panePids(), pids, "a second up adds none");

  await killSession("crew-a");
  await killSession("crew-b");
  await until(async () => (await liveSessions()).has("crew-a"), 10_000, "crew-a is back");
  assert.ok(!(await liveSessions()).has("crew-b"), "crew-b must stay dead");

  assert.deepEqual(
    (await statusLines(s)).map((a) => [a.session, a.live]),
    [
      ["crew-a", true],
      ["crew-b", false],
    ],
  );

  await ok(s.po("down"));
  assert.deepEqual([...(await liveSessions())], []);
  assert.deepEqual(watchdogPids(s.dir), []);
  await never("crew-a came back after down", async () => (await liveSessions()).has("crew-a"), 3000);

  await s.agents(`${SLEEPERS.replace('watch = "heal"', 'watch = "heal"\nwake = "every hour"')}`);
  const refused = await s.po("up");
  assert.equal(refused.exitCode, 1);
  assert.match(refused.stderr, /agents\.a\.wake: 'wake' is not supported/);
  assert.deepEqual([...(await liveSessions())], []);
  assert.deepEqual(watchdogPids(s.dir), []);
});
