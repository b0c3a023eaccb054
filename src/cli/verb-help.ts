// A verb's help text as its --help prints it: for po --help's command list and shell completion.

export interface Verb {
  summary: string;
  run(argv: string[], verbs?: Record<string, () => Promise<Verb>>): Promise<number>;
}

/** What `po VERB --help` prints, captured (every verb prints its help and returns before acting). */
export async function helpText(verb: Verb): Promise<string> {
  const write = process.stdout.write;
  let text = "";
  process.stdout.write = ((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    await verb.run(["--help"]);
  } finally {
    process.stdout.write = write;
  }
  return text;
}

/** The usage line of a verb's help, without "Usage: po ". */
export function usageLine(help: string): string {
  return (help.split("\n")[0] ?? "").replace(/^Usage: po /, "");
}

/** The long options a verb's help lists, in order, without repeats. */
export function optionsOf(help: string): string[] {
  return [...new Set(help.match(/(?<![\w-])--[a-z][a-z-]*/g) ?? [])];
}
