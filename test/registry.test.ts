// Unit tests of the registry's loading and checks, in-process (no CLI, no tmux): the corpus of malformed
// files against its reviewed table of exact problems, and the normalization of the well-formed ones.
// Fast on purpose: `npm run mutate` runs this file.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expectedProblems, FIXTURES, rel, tomlFiles } from "./support/fixtures.js";
import { loadFleet, requireFleet } from "../src/registry/fleet.js";
import { loadAgents, requireAgents } from "../src/registry/agents-file.js";
import { loadToml } from "../src/registry/load-toml.js";
import { formatProblem, UserError } from "../src/common/problems.js";

const TMP = mkdtempSync(join(tmpdir(), "po-registry-"));
after(() => rmSync(TMP, { recursive: true, force: true }));
const walk = tomlFiles;

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

  it("agents.toml normalizes with watch none, a 30 s interval and prompts resolved in the project", async () => {
    const dir = join(FIXTURES, "valid", "agents-full");
    const c = await requireAgents(dir);
    assert.deepEqual(c, {
      file: join(dir, "agents.toml"),
      intervalS: 30,
      maxRestarts: 5,
      restartWindowS: 600,
      notify: ["notify-send", "po"],
      agents: [
        {
          name: "po",
          command: ["claude", "--model", "opus", "--append-system-prompt", "{prompt_text}"],
          prompt: join(dir, "prompts/orchestrator.md"),
          watch: "heal",
        },
        { name: "helper", command: ["bash"], watch: "none" },
        { name: "quiet.one_2", command: ["sleep", "infinity"], watch: "none" },
      ],
    });
    writeFileSync(join(TMP, "agents.toml"), "[watchdog]\ninterval_s = 5\n");
    assert.deepEqual(await requireAgents(TMP), {
      file: join(TMP, "agents.toml"),
      intervalS: 5,
      maxRestarts: 5,
      restartWindowS: 600,
      agents: [],
    });
    const plain = join(TMP, "no-watchdog");
    mkdirSync(plain);
    writeFileSync(join(plain, "agents.toml"), '[agents.a]\ncommand = ["x"]\n');
    assert.deepEqual(await loadAgents(plain), {
      config: {
        file: join(plain, "agents.toml"),
        intervalS: 30,
        maxRestarts: 5,
        restartWindowS: 600,
        agents: [{ name: "a", command: ["x"], watch: "none" }],
      },
      problems: [],
    });
  });

  it("an agents.toml with a problem gives its problems and no agents", async () => {
    const dir = join(TMP, "bad-agents");
    mkdirSync(dir);
    writeFileSync(join(dir, "agents.toml"), '[agents.a]\ncommand = "x"\n');
    const { config, problems } = await loadAgents(dir);
    assert.equal(config, undefined);
    assert.deepEqual(problems.map(formatProblem), [
      `${join(dir, "agents.toml")}:2:1: agents.a.command: must be an array, not the string "x"`,
    ]);
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
    // a sparse file of `bytes` NUL bytes
    const sized = (file: string, bytes: number) => {
      const fd = openSync(file, "w");
      ftruncateSync(fd, bytes);
      closeSync(fd);
      return file;
    };
    const big = sized(join(TMP, "big.toml"), 10 * 1024 * 1024 + 1);
    assert.deepEqual((await loadFleet(big)).problems.map(formatProblem), [
      `${big}: file is 10485761 bytes, more than the 10485760 that po reads`,
    ]);
    // a path through a file (ENOTDIR) is as missing as a path to nothing
    const through = join(big, "fleet.toml");
    assert.deepEqual((await loadFleet(through)).problems.map(formatProblem), [
      `${through}: file not found (pass --fleet FILE, or run po in the folder that holds fleet.toml)`,
    ]);
    // 10 MiB exactly is read (and its NUL bytes are no TOML)
    const limit = sized(join(TMP, "limit.toml"), 10 * 1024 * 1024);
    assert.deepEqual((await loadFleet(limit)).problems.map(formatProblem), [
      `${limit}:1:1: TOML syntax error: illegal character in key`,
    ]);
    // text stands for the file's content: the file itself need not exist
    const r = await loadFleet(missing, "version = 2\n");
    assert.deepEqual(r.problems.map(formatProblem), [`${missing}:1:1: version: must be 1, not 2`]);
    assert.deepEqual((await loadFleet(missing, "version = 1\n")).fleet, { path: missing, projects: [] });
  });

  it("a file that cannot be read has no source, and every path of it is at its first line", async () => {
    const r = await loadToml(join(TMP, "nope.toml"), "agents");
    assert.deepEqual([r.source, r.data, r.locate(["agents", "a"])], ["", undefined, { line: 1, col: 1 }]);
  });

  it("a syntax error that is not an open string keeps smol-toml's message", async () => {
    // a control character in a string, also as the last character before its closing quote
    for (const text of ['a = "x\u0001y"\n', 'a = "x\u0001"\n']) {
      const r = await loadToml("x.toml", "fleet", text);
      assert.deepEqual(r.problems.map(formatProblem), [
        "x.toml:1:7: TOML syntax error: control characters are not allowed in strings",
      ]);
    }
  });
});

describe("more shapes, in-process (text given for the file)", () => {
  const H = `version = 1\n[harnesses.h]\nurl = "u"\nup = ["a"]\ndown = ["b"]\n`;
  const cases: [string, string[]][] = [
    [
      H + '[projects.a]\nlocation = "a"\nharness = "h"\nref = { x = 1 }\n',
      ["/f.toml:9:1: projects.a.ref: must be a string, not a table"],
    ],
    [
      H + '[projects.a]\nlocation = "a"\nharness = "h"\nref = "v1"\nenabled = 1.5\n',
      ["/f.toml:10:1: projects.a.enabled: must be true or false, not number 1.5"],
    ],
    ["version = [1]\n", ["/f.toml:1:1: version: must be 1, not [1]"]],
    [
      H + '[projects.a]\nlocation = "a"\nharness = "h"\nref = "v1"\nurl = 3\n',
      ["/f.toml:10:1: projects.a.url: must be a string, not number 3"],
    ],
    [H + "harnesses = 3\n", ["/f.toml:6:1: harnesses.h.harnesses: unknown key 'harnesses'"]],
    [
      'version = 1\nharnesses = 3\n[projects.a]\nlocation = "a"\nharness = "h"\nref = "v1"\n',
      ["/f.toml:2:1: harnesses: must be a table, not number 3"],
    ],
    [
      H +
        '[projects.a]\nlocation = "/x"\nharness = "h"\nref = "v1"\n[projects.b]\nlocation = "/x/y/z"\nharness = "h"\nref = "v1"\n[projects.c]\nlocation = "/x"\nharness = "h"\nref = "v1"\n',
      [
        "/f.toml:11:1: projects.b.location: /x/y/z is inside project 'a' (/x); projects cannot nest",
        "/f.toml:15:1: projects.c.location: same location as project 'a' (/x): one repository; each project needs its own folder",
      ],
    ],
    [
      H + '[projects.a]\nlocation = ""\nharness = "H"\nref = 5\n',
      [
        "/f.toml:7:1: projects.a.location: must not be empty",
        "/f.toml:8:1: projects.a.harness: invalid value \"H\": A name: lowercase letters, digits, '.', '_' and '-', starting with a letter or digit.",
        "/f.toml:9:1: projects.a.ref: must be a string, not number 5",
      ],
    ],
    [H + "[projects]\na = 3\n", ["/f.toml:7:1: projects.a: must be a table, not number 3"]],
    [
      H +
        '[projects.a]\nlocation = ""\nharness = "h"\nref = "v1"\n[projects.b]\nlocation = "b"\nharness = "h"\nref = "v1"\n',
      ["/f.toml:7:1: projects.a.location: must not be empty"],
    ],
    [
      H +
        '[projects.a]\nlocation = 5\nharness = "h"\nref = "v1"\n[projects.b]\nlocation = "b"\nharness = "h"\nref = "v1"\n',
      ["/f.toml:7:1: projects.a.location: must be a string, not number 5"],
    ],
    [
      H +
        '[projects.c]\nlocation = "/x"\nharness = "h"\nref = "v1"\n[projects.a]\nlocation = "/x"\nharness = "h"\nref = "v1"\n',
      [
        "/f.toml:7:1: projects.c.location: same location as project 'a' (/x): one repository; each project needs its own folder",
      ],
    ],
    [H + "timeout_s = 1.5\n", ["/f.toml:6:1: harnesses.h.timeout_s: must be a whole number, not number 1.5"]],
    [
      'version = 1\n[harnesses.h]\nurl = "u"\nup = ["a"]\ndown = ["b"]\n[projects.a]\nlocation = "a"\nharness = "h"\nref = "v1"\nwake = 1\n',
      ["/f.toml:10:1: projects.a.wake: unknown key 'wake'"],
    ],
    [
      'version = 1\n[harnesses.h]\nurl = "u"\nup = ["a"]\ndown = ["b"]\n[projects."a/b~c"]\nlocation = "a"\nharness = "h"\nref = 5\n',
      [
        "/f.toml:6:1: projects.a/b~c: invalid project name 'a/b~c': use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit",
        "/f.toml:9:1: projects.a/b~c.ref: must be a string, not number 5",
      ],
    ],
    [
      'version = 1\r\nx = "abc\r\n',
      [
        "/f.toml:2:9: TOML syntax error: unterminated string: a string must end on the line it starts (use \"\"\" or ''' for multi-line strings)",
      ],
    ],
  ];
  for (const [text, want] of cases)
    it(JSON.stringify(text.startsWith(H) ? text.slice(H.length) : text), async () => {
      assert.deepEqual((await loadFleet("/f.toml", text)).problems.map(formatProblem), want);
    });
});

describe("agents.toml problems come in line order, whichever the schema finds first", () => {
  const cases: [string, string[]][] = [
    [
      '[agents.b]\ncommand = "x"\n[watchdog]\ninterval_s = 0\n',
      [
        '/a.toml:2:1: agents.b.command: must be an array, not the string "x"',
        "/a.toml:4:1: watchdog.interval_s: must be >= 1",
      ],
    ],
    [
      '[watchdog]\ninterval_s = 0\n[agents.b]\ncommand = "x"\n',
      [
        "/a.toml:2:1: watchdog.interval_s: must be >= 1",
        '/a.toml:4:1: agents.b.command: must be an array, not the string "x"',
      ],
    ],
  ];
  for (const [text, want] of cases)
    it(JSON.stringify(text), async () => {
      assert.deepEqual((await loadToml("/a.toml", "agents", text)).problems.map(formatProblem), want);
    });
});
