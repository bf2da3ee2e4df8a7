/**
 * The one error type of the maths: it says what was wrong and where (`where` is a path into the
 * input such as `scores[3]` or `options.weights[1]`), so a CLI line, a trainer event or a UI message
 * can point the user at the exact field.
 */
export class DurianInputError extends Error {
  readonly where: string;

  constructor(where: string, problem: string) {
    super(where ? `${where}: ${problem}` : problem);
    this.name = 'DurianInputError';
    this.where = where;
  }
}

/** Describes a value for an error message without dumping megabytes of it. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}
