// Unit tests of the registry's pure checks, in-process (no CLI, no tmux): the corpus of malformed files
// against its reviewed table of exact problems, normalization of the well-formed ones, and the tables
// of ref rules, name suggestions and locations. Fast on purpose: `npm run mutate` runs this file.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { ftruncateSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { expandLocation, harnessSpec, loadFleet, requireFleet } from "../src/registry/fleet.js";
import { loadAgents, requireAgents } from "../src/registry/agents-file.js";
import { loadToml } from "../src/registry/load-toml.js";
import { refProblem } from "../src/registry/gitref.js";
import { closest, didYouMean } from "../src/common/suggest.js";
import { formatProblem, UserError } from "../src/common/problems.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const FIXTURES = join(ROOT, "test", "fixtures");
const TMP = mkdtempSync(join(tmpdir(), "po-registry-"));
after(() => rmSync(TMP, { recursive: true, force: true }));

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".toml") ? [join(dir, e.name)] : []))
    .sort();
}

const rel = (f: string) => relative(ROOT, f).split(sep).join("/");

/** The reviewed table: every problem of every invalid fixture, as `po validate` prints it. */
export function expectedProblems(): Map<string, string[]> {
  const table = new Map<string, string[]>();
  for (const line of readFileSync(join(FIXTURES, "invalid-problems.txt"), "utf8").split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const file = line.slice(0, line.indexOf(".toml:") + 5);
    table.set(file, [...(table.get(file) ?? []), line.replaceAll("{ROOT}", ROOT)]);
  }
  return table;
}

async function problemsOf(file: string): Promise<string[]> {
  const loaded = file.endsWith("/agents.toml") ? await loadToml(file, "agents") : await loadFleet(file);
  return loaded.problems.map((p) => formatProblem({ ...p, file: rel(file) }));
}

describe("the corpus of malformed files, in-process", () => {
  const table = expectedProblems();
  const files = walk(join(FIXTURES, "invalid"));

  it("the table lists exactly the fixtures of the corpus", () => {
    assert.deepEqual([...table.keys()].sort(), files.map(rel).sort());
  });

  for (const file of files) {
    it(rel(file).replace("test/fixtures/invalid/", ""), async () => {
      assert.deepEqual(await problemsOf(file), table.get(rel(file)));
    });
  }

  it("requireFleet throws every problem at once, one line each", async () => {
    const file = join(FIXTURES, "invalid", "multiple-problems.toml");
    await assert.rejects(requireFleet(file), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.equal(e.problems.length, 7);
      assert.deepEqual(
        e.message.split("\n"),
        table.get(rel(file))!.map((l) => l.replace(rel(file), file)),
      );
      return true;
    });
  });
});

describe("well-formed files", () => {
  for (const file of walk(join(FIXTURES, "valid")))
    it(`${rel(file)} has no problem`, async () => assert.deepEqual(await problemsOf(file), []));

  it("full.toml normalizes with defaults, expanded locations and projects sorted by name", async () => {
    const file = join(FIXTURES, "valid", "full.toml");
    const { fleet } = await requireFleet(file);
    assert.equal(fleet.path, file);
    const rows = fleet.projects.map((p) => [p.name, p.location, p.harness.name, p.ref, p.enabled, p.url]);
    assert.deepEqual(rows, [
      ["0-numbered", join(homedir(), "0"), "agent-orchestrator", "deadbee", true, undefined],
      ["alpha", resolve(FIXTURES, "alpha"), "agent-orchestrator", "v0.1.0", true, "https://example.org/me/alpha.git"],
      ["beta", join(homedir(), "fleet/beta"), "agent-orchestrator", "refs/heads/main", false, undefined],
      ["delta", "/srv/fleet/delta", "agent-orchestrator", "feature/x-1.2_3", true, undefined],
      ["gamma", "/srv/fleet/gamma", "local.h_2", "0123456789abcdef0123456789abcdef01234567", true, undefined],
    ]);
    assert.equal("url" in fleet.projects[0]!, false, "no url key when the file gives none");
    assert.deepEqual(fleet.projects.find((p) => p.name === "gamma")!.harness, {
      name: "local.h_2",
      url: "file:///srv/harnesses/local",
      path: "engine",
      up: ["./engine/up.sh"],
      down: ["./engine/down.sh"],
      session: "{dir}-{agent}",
      timeoutMs: 120_000,
    });
    assert.equal(fleet.projects.find((p) => p.name === "alpha")!.harness.timeoutMs, 300_000);
  });

  it("harnessSpec keeps a path, session and timeout the file gives", () => {
    const h = harnessSpec("x", {
      url: "u",
      up: ["a"],
      down: ["b"],
      path: "vendor/h",
      session: "s-{agent}",
      timeout_s: 7,
    });
    assert.deepEqual(h, {
      name: "x",
      url: "u",
      path: "vendor/h",
      up: ["a"],
      down: ["b"],
      session: "s-{agent}",
      timeoutMs: 7000,
    });
  });

  it("agents.toml normalizes with watch none, a 30 s interval and prompts resolved in the project", async () => {
    const dir = join(FIXTURES, "valid", "agents-full");
    const c = await requireAgents(dir);
    assert.deepEqual(c, {
      file: join(dir, "agents.toml"),
      intervalS: 30,
      agents: [
        {
          name: "po",
          command: ["claude", "--model", "opus"],
          prompt: join(dir, "prompts/orchestrator.md"),
          watch: "heal",
        },
        { name: "helper", command: ["bash"], watch: "none" },
        { name: "quiet.one_2", command: ["sleep", "infinity"], watch: "none" },
      ],
    });
    writeFileSync(join(TMP, "agents.toml"), "[watchdog]\ninterval_s = 5\n");
    assert.deepEqual(await requireAgents(TMP), { file: join(TMP, "agents.toml"), intervalS: 5, agents: [] });
  });

  it("a missing agents.toml is a problem, and requireAgents throws it", async () => {
    const dir = join(TMP, "no-agents");
    mkdirSync(dir);
    const msg = `${join(dir, "agents.toml")}: file not found (a project lists its agents in agents.toml at its root)`;
    assert.deepEqual((await loadAgents(dir)).problems.map(formatProblem), [msg]);
    await assert.rejects(requireAgents(dir), { message: msg });
  });
});

describe("files that cannot be read as TOML", () => {
  it("missing, a folder, too large, or given as text", async () => {
    const missing = join(TMP, "nope.toml");
    assert.deepEqual((await loadFleet(missing)).problems.map(formatProblem), [
      `${missing}: file not found (pass --fleet FILE, or run po in the folder that holds fleet.toml)`,
    ]);
    assert.deepEqual((await loadFleet(TMP)).problems.map(formatProblem), [`${TMP}: not a regular file`]);
    const big = join(TMP, "big.toml");
    const fd = openSync(big, "w");
    ftruncateSync(fd, 10 * 1024 * 1024 + 1);
    closeSync(fd);
    assert.deepEqual((await loadFleet(big)).problems.map(formatProblem), [
      `${big}: file is 10485761 bytes, more than the 10485760 that po reads`,
    ]);
    const exact = join(TMP, "exact.toml");
    writeFileSync(exact, "version = 1" + " ".repeat(10 * 1024 * 1024 - 11));
    assert.deepEqual((await loadFleet(exact)).problems, [], "exactly the limit is read");
    // text stands for the file's content: the file itself need not exist
    const r = await loadFleet(missing, "version = 2\n");
    assert.deepEqual(r.problems.map(formatProblem), [`${missing}:1:1: version: must be 1, not 2`]);
    assert.deepEqual((await loadFleet(missing, "version = 1\n")).fleet, { path: missing, projects: [] });
  });

  it("a syntax error that is not an open string keeps smol-toml's message", async () => {
    const r = await loadToml("x.toml", "fleet", 'a = "x\u0001y"\n');
    assert.deepEqual(r.problems.map(formatProblem), [
      "x.toml:1:7: TOML syntax error: control characters are not allowed in strings",
    ]);
  });
});

describe("git ref rules", () => {
  const cases: [string, string | undefined][] = [
    ["v0.1.0", undefined],
    ["refs/heads/main", undefined],
    ["feature/x-1.2_3", undefined],
    ["deadbee", undefined],
    ["0123456789abcdef0123456789abcdef01234567", undefined],
    ["-x", "a ref cannot start with '-'"],
    ["a b", "a ref cannot contain spaces, control characters or any of ~ ^ : ? * [ \\"],
    ["a\tb", "a ref cannot contain spaces, control characters or any of ~ ^ : ? * [ \\"],
    ["a\x7fb", "a ref cannot contain spaces, control characters or any of ~ ^ : ? * [ \\"],
    ...["~", "^", ":", "?", "*", "[", "\\"].map((c): [string, string] => [
      `a${c}b`,
      "a ref cannot contain spaces, control characters or any of ~ ^ : ? * [ \\",
    ]),
    ["v1..2", "a ref cannot contain '..'"],
    ["a@{u}", "a ref cannot contain '@{'"],
    ["@", "'@' alone is not a ref"],
    ["a@b", undefined],
    ["x.", "a ref cannot end with '.' or '/'"],
    ["x/", "a ref cannot end with '.' or '/'"],
    ["/x", "a ref cannot start with '/' or contain '//'"],
    ["a//b", "a ref cannot start with '/' or contain '//'"],
    [".x", "no part of a ref can start with '.'"],
    ["a/.x", "no part of a ref can start with '.'"],
    ["x.lock", "no part of a ref can end with '.lock'"],
    ["x.lock/y", "no part of a ref can end with '.lock'"],
    ["a.b/c.d", undefined],
    ["abcdef", undefined],
    ["DEADBEEF", undefined],
  ];
  for (const [ref, why] of cases) it(JSON.stringify(ref), () => assert.equal(refProblem(ref), why));
});

describe("did you mean", () => {
  const cases: [string, string[], string | undefined][] = [
    ["enabeld", ["location", "enabled", "ref"], "enabled"],
    ["ENABLED", ["enabled"], "enabled"],
    ["a0", ["ao", "zz"], "ao"],
    ["owner", ["location", "harness", "ref", "enabled", "url"], undefined],
    ["ab", ["xy"], "xy"], // two edits: always within reach
    ["abc", ["xyz"], undefined],
    ["abcdefghi", ["abcxyzghi"], "abcxyzghi"], // 3 edits in 9 letters
    ["abcdefgh", ["abcxyzgh"], undefined], // 3 edits in 8 letters
    ["interval", ["interval_s", "interva"], "interva"],
    ["x", [], undefined],
  ];
  for (const [word, candidates, want] of cases)
    it(`${word} among ${candidates.join(",") || "nothing"}`, () => {
      assert.equal(closest(word, candidates), want);
      assert.equal(didYouMean(word, candidates), want ? ` (did you mean '${want}'?)` : "");
    });
});

describe("locations", () => {
  const cases: [string, string][] = [
    ["~", homedir()],
    ["~/a/b", join(homedir(), "a/b")],
    ["~a", "/base/~a"],
    ["/srv/x/../y", "/srv/y"],
    ["rel/x", "/base/rel/x"],
    ["../up", "/up"],
  ];
  for (const [loc, want] of cases) it(loc, () => assert.equal(expandLocation(loc, "/base"), want));
});
