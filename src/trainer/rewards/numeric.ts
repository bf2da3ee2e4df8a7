/**
 * Numbers as models and datasets write them: "0.5", "1/2", "\frac{1}{2}", "\dfrac12", "-3", "−3",
 * "1,000", "25%", "2\sqrt{3}", "3\pi", "30^\circ", "5 cm", "x = 5", "$1.5 \times 10^{-3}$".
 * A small recursive-descent evaluator (no eval): + - * / ^, \frac, \sqrt, \pi, \cdot, \times, parentheses,
 * implicit products before \sqrt / \pi / ( / \frac. What follows the number, if it is words (cm, units,
 * square meters), is its unit.
 */

export interface ParsedNumber {
  value: number;
  /** Written with a percent sign. */
  percent: boolean;
  /** Unit words after the number, normalised ('cm', 'cm^2', 'units'); '' when none. */
  unit: string;
}

/** LaTeX and typography that never changes a value. */
export function cleanLatex(text: string): string {
  return text
    .replace(/\\\$/g, '')
    .replace(/\$/g, '')
    .replace(/\\[()[\]]/g, '')
    .replace(/\\(?:left|right|big|Big|bigl|bigr|displaystyle|textstyle)\b/g, '')
    .replace(/\\[!,;:> ]|\\quad|\\qquad|~/g, ' ')
    .replace(/\\(?:text|textbf|textit|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}/g, ' $1 ')
    .replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|°|\\degree/g, ' degrees ')
    .replace(/\\%/g, '%')
    .replace(/[−–—]/g, '-')
    .replace(/[×·]|\\times|\\cdot/g, '*')
    .replace(/÷|\\div/g, '/')
    .replace(/π/g, '\\pi')
    .replace(/√/g, '\\sqrt')
    .replace(/\\[dt]frac/g, '\\frac')
    .replace(/\s+/g, ' ')
    .trim();
}

class Parser {
  at = 0;
  percent = false;
  constructor(readonly s: string) {}

  private skip(): void {
    while (this.s[this.at] === ' ') this.at++;
  }

  private peek(text: string): boolean {
    this.skip();
    return this.s.startsWith(text, this.at);
  }

  private eat(text: string): boolean {
    if (!this.peek(text)) return false;
    this.at += text.length;
    return true;
  }

  expression(): number {
    let value = this.term();
    for (;;) {
      if (this.eat('+')) value += this.term();
      else if (this.peek('-') && !this.peek('->')) {
        this.at++;
        value -= this.term();
      } else return value;
    }
  }

  private term(): number {
    let value = this.factor();
    for (;;) {
      if (this.eat('*')) value *= this.factor();
      else if (this.peek('/') && !this.peek('//')) {
        this.at++;
        value /= this.factor();
      } else if (this.peek('\\sqrt') || this.peek('\\pi') || this.peek('(') || this.peek('\\frac')) value *= this.factor();
      else return value;
    }
  }

  private factor(): number {
    if (this.eat('-')) return -this.factor();
    if (this.eat('+')) return this.factor();
    const base = this.atom();
    if (this.eat('^')) {
      const exponent = this.peek('{') ? this.group() : this.factor();
      return base ** exponent;
    }
    return base;
  }

  /** `{expr}`, or a single digit / command as LaTeX allows (`\frac12`). */
  private argument(): number {
    if (this.peek('{')) return this.group();
    this.skip();
    const c = this.s[this.at];
    if (c !== undefined && /\d/.test(c)) {
      this.at++;
      return Number(c);
    }
    return this.atom();
  }

  private group(): number {
    if (!this.eat('{')) throw new Error('expected {');
    const value = this.expression();
    if (!this.eat('}')) throw new Error('expected }');
    return value;
  }

  private atom(): number {
    this.skip();
    if (this.eat('(')) {
      const value = this.expression();
      if (!this.eat(')')) throw new Error('expected )');
      return value;
    }
    if (this.peek('{')) return this.group();
    if (this.eat('\\frac')) {
      const numerator = this.argument();
      return numerator / this.argument();
    }
    if (this.eat('\\sqrt')) {
      let root = 2;
      if (this.eat('[')) {
        root = this.expression();
        if (!this.eat(']')) throw new Error('expected ]');
      }
      const radicand = this.argument();
      return root === 2 ? Math.sqrt(radicand) : radicand ** (1 / root);
    }
    if (this.eat('\\pi')) return Math.PI;
    const match = /^(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d*)?(?:[eE][+-]?\d+)?|^\.\d+(?:[eE][+-]?\d+)?/.exec(this.s.slice(this.at));
    if (!match) throw new Error('expected a number');
    this.at += match[0].length;
    const value = Number(match[0].replace(/,/g, ''));
    if (this.eat('%')) this.percent = true;
    return value;
  }

  rest(): string {
    return this.s.slice(this.at).trim();
  }
}

const DEGREE_UNIT = /^(?:degrees?|deg)$/;

/** Normalises unit words: 'square cm' / 'cm²' / 'cm^{2}' -> 'cm^2'; degrees -> '' (a bare angle). */
export function normaliseUnit(text: string): string {
  let unit = text.toLowerCase().replace(/[{}]/g, '').replace(/\s+/g, ' ').replace(/[.]$/, '').trim();
  unit = unit.replace(/²/g, '^2').replace(/³/g, '^3');
  const square = /^(?:square|sq\.?) (.+)$/.exec(unit);
  if (square) unit = `${square[1]}^2`;
  const cubic = /^(?:cubic|cu\.?) (.+)$/.exec(unit);
  if (cubic) unit = `${cubic[1]}^3`;
  unit = unit.replace(/ ?\^ ?/g, '^');
  if (DEGREE_UNIT.test(unit)) return '';
  return unit;
}

/**
 * Parses a numeric answer, or returns null when the text is not one number (with an optional unit).
 * "x = 5" / "AB = 12 cm" take the value after the last '='.
 */
export function parseNumber(text: string): ParsedNumber | null {
  let s = cleanLatex(text);
  const equals = s.lastIndexOf('=');
  if (equals >= 0) s = s.slice(equals + 1).trim();
  s = s.replace(/[.;,!]+$/, '').trim();
  if (s === '' || !/\d|\\pi/.test(s)) return null;
  const parser = new Parser(s);
  let value: number;
  try {
    value = parser.expression();
  } catch {
    return null;
  }
  if (!Number.isFinite(value)) return null;
  const rest = parser.rest();
  // A unit is words (and powers) only: "cm", "cm^2", "square units", "m/s", "degrees".
  if (rest !== '' && !/^[A-Za-z][A-Za-z\s^0-9/²³.]*$/.test(rest)) return null;
  return { value, percent: parser.percent, unit: rest === '' ? '' : normaliseUnit(rest) };
}

export interface NumericTolerance {
  /** Relative tolerance (default 1e-4). */
  relative?: number;
  /** Absolute tolerance (default 1e-8). */
  absolute?: number;
}

export function closeTo(a: number, b: number, tolerance: NumericTolerance = {}): boolean {
  const relative = tolerance.relative ?? 1e-4;
  const absolute = tolerance.absolute ?? 1e-8;
  return Math.abs(a - b) <= Math.max(absolute, relative * Math.max(Math.abs(a), Math.abs(b)));
}

/**
 * Whether two parsed numbers agree: equal within tolerance; when only one side has a percent sign,
 * "25%" matches both 25 and 0.25; when both sides name a unit, the units must agree ("5 cm" vs "5 m": no),
 * while a unit on one side only is ignored ("5 cm" vs "5": yes).
 */
export function numbersMatch(given: ParsedNumber, truth: ParsedNumber, tolerance: NumericTolerance = {}): boolean {
  if (given.unit !== '' && truth.unit !== '' && given.unit !== truth.unit) return false;
  if (closeTo(given.value, truth.value, tolerance)) return true;
  if (given.percent !== truth.percent) {
    const givenFraction = given.percent ? given.value / 100 : given.value;
    const truthFraction = truth.percent ? truth.value / 100 : truth.value;
    return closeTo(givenFraction, truthFraction, tolerance);
  }
  return false;
}
