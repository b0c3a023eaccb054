// A problem is one located, human-readable complaint about an input file or the world.

export interface Problem {
  file: string;
  line?: number;
  col?: number;
  /** dotted key path inside the file, e.g. projects.alpha.enabled */
  path?: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  const where = p.line ? `${p.file}:${p.line}:${p.col ?? 1}` : p.file;
  return p.path ? `${where}: ${p.path}: ${p.message}` : `${where}: ${p.message}`;
}

/** An error meant for the operator: printed as one line, exit 1, never a stack trace. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
  }
}

export function problemsError(problems: Problem[]): UserError {
  return new UserError(problems.map(formatProblem).join("\n"), problems);
}
