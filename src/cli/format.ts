/** Small formatting helpers shared by the commands' output and the progress display. */
export const bytes = (n: number) => `${n.toLocaleString('en')} bytes`;

export function mb(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : bytes(n);
}

export function ms(n: number): string {
  return n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(1)} s`;
}

/** sha256:0123456789ab, enough to tell digests apart in a table. */
export const short = (digest: string) => digest.slice(0, 19);

export const json = (v: unknown) => JSON.stringify(v, null, 2);
