/**
 * Environment variable names as `[capabilities.env]` takes them: names, or globs with `*` and `?`
 * in `allow`. Names that look like secrets pass only when named exactly, never through a glob.
 */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PATTERN = /^[A-Za-z0-9_*?]+$/;

/** Fabro's filter: what a key, token or password is usually called (any case). */
const SECRET = /(^|_)(API_?KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIALS?|PRIVATE_KEY)$/i;

export const isEnvName = (s: string) => NAME.test(s);
export const isEnvPattern = (s: string) => PATTERN.test(s) && /[A-Za-z0-9_]|\*/.test(s);
export const isGlob = (s: string) => /[*?]/.test(s);
export const looksSecret = (name: string) => SECRET.test(name);

export function globMatches(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(name);
}

/** Whether `allow` lets `name` through: named exactly, or by a glob when it does not look secret. */
export function allowedName(allow: readonly string[], name: string): boolean {
  if (allow.includes(name)) return true;
  return !looksSecret(name) && allow.some((p) => isGlob(p) && globMatches(p, name));
}
