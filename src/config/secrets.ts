/**
 * What counts as a secret in an environment variable, by its name or by its value. A secret
 * reaches a service only when `[capabilities.env] allow` names it exactly, never through a
 * pattern, and never from `set` (recorded in the artifact for anyone who pulls it). Erring
 * towards "secret" costs one exact name in `allow`; erring the other way hands a credential to
 * every service that asks for `allow = ["*"]`. docs/capabilities.md states the same rule.
 */

/** Anywhere in the name, with "_" and other separators left out (PGPASSWORD, MYAPIKEY). */
const SECRET_PARTS = [
  'SECRET', 'PASSWORD', 'PASSWD', 'PASSPHRASE', 'CREDENTIAL', 'APIKEY', 'ACCESSKEY', 'PRIVATEKEY',
  'SIGNINGKEY', 'AUTHKEY', 'WEBHOOK', 'COOKIE', 'CONNECTIONSTRING', 'CONNSTR', 'MNEMONIC',
];

/**
 * Whole words of the name: split at "_" and any other sign, and where camelCase turns upper,
 * compared in upper case and without trailing digits (MY_TOKEN_2). Not CERT (certificates are
 * public), not TOKENS (MAX_TOKENS counts them).
 */
const SECRET_WORDS = new Set([
  'KEY', 'KEYS', 'TOKEN', 'PASS', 'PWD', 'PW', 'AUTH', 'OAUTH', 'BEARER', 'PAT', 'DSN', 'SESSION',
  'SALT', 'HMAC', 'SAS', 'SIG', 'OTP', 'TOTP', 'PEM', 'P12', 'PFX', 'JKS', 'KEYSTORE', 'JWK',
]);

/** A word that ends in TOKEN is one too: GHTOKEN, AUTHTOKEN, npm's _authToken. */
const ENDS_SECRET = /TOKEN$/;

/** Names a word makes look secret that are not: the shell's folder, the desktop session's ids. */
const NOT_SECRET = /^(PWD|OLDPWD|DBUS_SESSION_BUS_ADDRESS|XDG_SESSION_[A-Z]+)$/;

function words(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter((w) => w !== '');
}

/** Whether a name (or a key inside a value) has a secret part or word. */
function hasSecretWord(text: string): boolean {
  const upper = text.toUpperCase().replace(/[^A-Z0-9]/g, '');
  if (SECRET_PARTS.some((p) => upper.includes(p))) return true;
  return words(text).some((w) => {
    const bare = w.replace(/\d+$/, '');
    return SECRET_WORDS.has(w) || SECRET_WORDS.has(bare) || ENDS_SECRET.test(bare);
  });
}

/** Whether a variable's name says it holds a secret (any case): GITHUB_TOKEN, PGPASSWORD, SENTRY_DSN. */
export function looksSecret(name: string): boolean {
  return !NOT_SECRET.test(name) && hasSecretWord(name);
}

/** Tokens of the big providers, recognisable by their shape wherever they stand in a value. */
const TOKEN_SHAPES = new RegExp(
  '(?:^|[^A-Za-z0-9_-])(?:' +
    [
      'gh[pousr]_[A-Za-z0-9]{30,}', // GitHub
      'github_pat_[A-Za-z0-9_]{30,}',
      'glpat-[A-Za-z0-9_-]{20,}', // GitLab
      'sk-[A-Za-z0-9_-]{20,}', // OpenAI, Anthropic (sk-ant-)
      '[sr]k_(?:live|test)_[A-Za-z0-9]{16,}', // Stripe
      'xox[abeoprs]-[A-Za-z0-9-]{10,}', // Slack
      'xapp-[A-Za-z0-9-]{10,}',
      '(?:AKIA|ASIA)[A-Z0-9]{16}', // AWS access key ids
      'AIza[A-Za-z0-9_-]{30,}', // Google API keys
      'npm_[A-Za-z0-9]{30,}',
      'pypi-[A-Za-z0-9_-]{30,}',
      'hf_[A-Za-z0-9]{30,}', // Hugging Face
      'eyJ[A-Za-z0-9_-]{10,}\\.eyJ[A-Za-z0-9_-]{10,}\\.', // a JWT
    ].join('|') +
    ')',
);

/**
 * The keys of key=value (connection strings, query strings, -Dkey=value) and "key": (JSON)
 * inside a value: the name characters just before each "=" or ":", at most 64 of them, so a long
 * value costs one pass.
 */
function* keysIn(value: string): Generator<string> {
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c !== '=' && c !== ':') continue;
    let end = i;
    while (end > 0 && (value[end - 1] === ' ' || value[end - 1] === '\t')) end--;
    // JSON: the key is quoted, and a ":" outside quotes (a port, a URL) is no key's
    if (c === ':') {
      if (value[end - 1] !== '"') continue;
      end--;
    }
    let start = end;
    while (start > 0 && end - start < 64 && /[A-Za-z0-9_.-]/.test(value[start - 1]!)) start--;
    if (start < end) yield value.slice(start, end);
  }
}

/** URL schemes whose user name is an account, not a credential (ssh://git@github.com/...). */
const USER_ONLY_SCHEMES = new Set(['ssh', 'git+ssh', 'ssh+git', 'sftp']);

/**
 * A URL with credentials in it: `scheme://user:password@host` (or `scheme://token@host`,
 * except for ssh's git@). Found with indexOf, not a RegExp, so a long value costs one pass.
 */
function urlCredentials(value: string): boolean {
  for (let at = value.indexOf('://'); at >= 0; at = value.indexOf('://', at + 3)) {
    let end = at + 3;
    while (end < value.length && !'/@?# \t\r\n'.includes(value[end]!)) end++;
    if (value[end] !== '@' || end === at + 3) continue;
    if (value.slice(at + 3, end).includes(':')) return true;
    let start = at;
    while (start > 0 && start > at - 16 && /[A-Za-z0-9+.-]/.test(value[start - 1]!)) start--;
    if (!USER_ONLY_SCHEMES.has(value.slice(start, at).toLowerCase())) return true;
  }
  return false;
}

/**
 * What credential a value carries, in words for a message (never the value itself), or
 * undefined: a URL with a password (postgres://u:p@h/db), a private key, a key=value whose key
 * looks secret (`Password=...;`, `?token=...`), or a provider's token by its shape (ghp_...).
 */
export function credentialIn(value: string): string | undefined {
  if (urlCredentials(value)) return 'a URL with a user and password (or token) in it';
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(value)) return 'a private key';
  const checked = new Set<string>();
  for (const key of keysIn(value)) {
    if (checked.has(key)) continue;
    checked.add(key);
    if (hasSecretWord(key)) return `a secret-looking setting (${key})`;
  }
  if (TOKEN_SHAPES.test(value)) return 'a token of a known provider (by its shape)';
  return undefined;
}

/** Why a variable is a secret (its name, or what its value carries), or undefined when it is not. */
export function secretReason(name: string, value: string | undefined): string | undefined {
  if (looksSecret(name)) return 'its name looks like a secret';
  const what = value === undefined ? undefined : credentialIn(value);
  return what ? `its value holds ${what}` : undefined;
}
