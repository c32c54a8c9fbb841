// Errors that say exactly where input is wrong: a JSON path, a CSV row and column, or a message.
// Pure: no I/O. Every user-facing validation error in Markbook is one of these.

/** One problem found in some input, addressed by where it is. */
export interface Problem {
  /** JSON path (`$.items[3].grademax`), `row 12, column "Quiz 1"`, or a field name. */
  readonly at: string;
  readonly message: string;
}

/** Thrown when input is rejected; carries every problem found, not just the first. */
export class ValidationError extends Error {
  readonly problems: readonly Problem[];
  constructor(problems: readonly Problem[], summary?: string) {
    const first = problems[0];
    super(
      summary ??
        (first
          ? `${first.at}: ${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`
          : 'invalid input'),
    );
    this.name = 'ValidationError';
    this.problems = problems;
  }
}

/** Builds a JSON path segment by segment: jsonPath('$', 'items', 3, 'grademax') -> $.items[3].grademax */
export function jsonPath(...parts: ReadonlyArray<string | number>): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (out === '') out = p;
    else if (/^[A-Za-z_$][\w$]*$/.test(p)) out += `.${p}`;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out;
}
