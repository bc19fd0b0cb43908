// Intl.Collator and String.prototype.localeCompare for the runtime, which has no ICU. No
// maintained polyfill of Intl.Collator exists (formatjs has none; intl and lean-intl leave
// collation out), so this is a small approximation of the Unicode Collation Algorithm's root
// order, as CLDR's English uses it: three levels (base letters, then accents, then case),
// ASCII punctuation and symbols in the root order before digits before letters, accents
// ordered as the root order orders them, `numeric`, `sensitivity`, `ignorePunctuation` and
// `caseFirst`. Letters outside Latin compare by code point; contractions and the tailorings of
// other languages are not there (docs/javascript.md).
import unorm from 'unorm';

// The root order of printable ASCII with the whitespace before it, one primary weight per
// group (a letter and its capital share one); as ICU's root collation sorts them.
const ASCII_ORDER = ['\t', '\n', '\v', '\f', '\r', ' ', ...'_-,;:!?.\'"()[]{}@*/\\&#%`^+<=>|~$'];
const PRIMARY = new Map(ASCII_ORDER.map((c, i) => [c, i + 1]));
// other punctuation and symbols after ASCII's, before the digits
const SYMBOL_BASE = 100;
const DIGIT_BASE = 0x20000;
const LETTER_BASE = 0x30000;
// combining marks (U+0300..U+036F) in the root order's secondary order, from first to last
const MARK_ORDER = '34f 332 313 343 314 301 341 300 340 306 302 30c 30a 342 308 344 30b 303 307 338 327 328 304 30d 30e 312 315 31a 33d 33e 33f 346 34a 34b 34c 350 351 352 357 35b 35d 35e 316 317 318 319 31c 31d 31e 31f 320 329 32a 32b 32c 32f 333 33a 33b 33c 347 348 349 34d 34e 353 354 355 356 359 35a 35c 35f 362 336 337 335 305 309 30f 310 311 31b 321 322 323 324 325 326 32d 32e 330 331 334 339 345 358 360 361 363 368 369 364 36a 365 36b 366 36c 36d 367 36e 36f';
const MARK_RANK = new Map(MARK_ORDER.split(' ').map((h, i) => [parseInt(h, 16), i + 1]));
// letters the root order expands or treats as a base letter with a mark
const EXPANSIONS = { ß: 'ss', æ: 'ae', Æ: 'AE', œ: 'oe', Œ: 'OE', ø: 'o\u0338', Ø: 'O\u0338', đ: 'd\u0335', Đ: 'D\u0335', ł: 'l\u0335', Ł: 'L\u0335' };

function isMark(cp) {
  return (cp >= 0x300 && cp <= 0x36f) || (cp >= 0x1ab0 && cp <= 0x1aff) || (cp >= 0x1dc0 && cp <= 0x1dff) || (cp >= 0x20d0 && cp <= 0x20ff) || (cp >= 0xfe20 && cp <= 0xfe2f);
}

function isLetter(ch, cp) {
  return ch.toLowerCase() !== ch.toUpperCase() || cp >= 0x2e80 || (cp >= 0x5d0 && cp <= 0x6ff) || (cp >= 0x900 && cp <= 0xdff) || (cp >= 0xe00 && cp <= 0xfff);
}

/** The collation elements of a string: primary, secondary and tertiary weights, level by level. */
function elements(text, numeric, ignorePunctuation) {
  const primary = [];
  const secondary = [];
  const tertiary = [];
  const chars = [...unorm.nfd(text.replace(/[ßæÆœŒøØđĐłŁ]/g, (c) => EXPANSIONS[c]))];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    const cp = ch.codePointAt(0);
    if (isMark(cp)) {
      secondary.push(1 + (MARK_RANK.get(cp) ?? 200));
      continue;
    }
    if (ch >= '0' && ch <= '9') {
      if (numeric) {
        let run = ch;
        while (i + 1 < chars.length && chars[i + 1] >= '0' && chars[i + 1] <= '9') run += chars[++i];
        const digits = run.replace(/^0+(?=.)/, '');
        // a longer number is a larger one; then digit by digit
        primary.push(DIGIT_BASE, DIGIT_BASE + 10 + digits.length, ...[...digits].map((d) => DIGIT_BASE + Number(d)));
      } else primary.push(DIGIT_BASE + Number(ch));
      secondary.push(1);
      tertiary.push(0);
      continue;
    }
    const lower = ch.toLowerCase();
    let weight = PRIMARY.get(lower);
    if (weight === undefined) {
      if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp === 0x200b || cp === 0xfeff) continue; // ignorable controls
      if (lower >= 'a' && lower <= 'z') weight = LETTER_BASE + lower.charCodeAt(0) - 0x61;
      else if (isLetter(ch, cp)) weight = LETTER_BASE + 26 + lower.codePointAt(0);
      else weight = SYMBOL_BASE + cp;
    }
    if (ignorePunctuation && weight < DIGIT_BASE) continue;
    primary.push(weight);
    secondary.push(1);
    tertiary.push(ch === lower ? 0 : 1);
  }
  return [primary, secondary, tertiary];
}

function compareLists(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

const SENSITIVITIES = ['base', 'accent', 'case', 'variant'];

function option(options, name, allowed, fallback) {
  const value = options[name];
  if (value === undefined) return fallback;
  const text = typeof allowed === 'boolean' ? Boolean(value) : String(value);
  if (Array.isArray(allowed) && !allowed.includes(text)) throw new RangeError(`Value ${text} out of range for Intl.Collator options property ${name}`);
  return text;
}

const slots = new WeakMap();

export class Collator {
  constructor(locales, options) {
    if (!new.target) return new Collator(locales, options);
    const opts = options === undefined ? {} : Object(options);
    const usage = option(opts, 'usage', ['sort', 'search'], 'sort');
    const sensitivity = option(opts, 'sensitivity', SENSITIVITIES, 'variant');
    const ignorePunctuation = option(opts, 'ignorePunctuation', false, false);
    const numeric = option(opts, 'numeric', false, false);
    const caseFirst = option(opts, 'caseFirst', ['upper', 'lower', 'false'], 'false');
    // the same locale the other Intl constructors resolve to (English is the data there is)
    const locale = new Intl.NumberFormat(locales).resolvedOptions().locale;
    slots.set(this, { locale, usage, sensitivity, ignorePunctuation, collation: 'default', numeric, caseFirst });
  }

  get compare() {
    const s = slot(this);
    s.bound ??= (x, y) => compareStrings(s, String(x), String(y));
    return s.bound;
  }

  resolvedOptions() {
    const { locale, usage, sensitivity, ignorePunctuation, collation, numeric, caseFirst } = slot(this);
    return { locale, usage, sensitivity, ignorePunctuation, collation, numeric, caseFirst };
  }

  static supportedLocalesOf(locales, options) {
    return Intl.NumberFormat.supportedLocalesOf(locales, options);
  }
}
Object.defineProperty(Collator.prototype, Symbol.toStringTag, { value: 'Intl.Collator', configurable: true });

function slot(collator) {
  const s = slots.get(collator);
  if (!s) throw new TypeError('Method Intl.Collator.prototype.compare called on incompatible receiver');
  return s;
}

function compareStrings(s, x, y) {
  if (x === y) return 0;
  const a = elements(x, s.numeric, s.ignorePunctuation);
  const b = elements(y, s.numeric, s.ignorePunctuation);
  const primary = compareLists(a[0], b[0]);
  if (primary !== 0 || s.sensitivity === 'base') return primary;
  if (s.sensitivity !== 'case') {
    const secondary = compareLists(a[1], b[1]);
    if (secondary !== 0) return secondary;
  }
  if (s.sensitivity === 'accent') return 0;
  const tertiary = compareLists(a[2], b[2]);
  return s.caseFirst === 'upper' ? -tertiary : tertiary;
}

Object.defineProperty(Intl, 'Collator', { value: Collator, writable: true, configurable: true, enumerable: false });

let plain;
Object.defineProperty(String.prototype, 'localeCompare', {
  value: function localeCompare(that, locales, options) {
    if (this == null) throw new TypeError('String.prototype.localeCompare called on null or undefined');
    const collator = locales === undefined && options === undefined ? (plain ??= new Collator()) : new Collator(locales, options);
    return collator.compare(String(this), String(that));
  },
  writable: true,
  configurable: true,
  enumerable: false,
});
