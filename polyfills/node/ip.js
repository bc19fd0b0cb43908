// isIP/isIPv4/isIPv6 as Node's net module answers them: dotted quads without leading zeros, and
// IPv6 in every RFC 4291 form (with `::`, an IPv4 tail, a `%zone`).
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)';
const V4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const HEX = /^[0-9a-fA-F]{1,4}$/;

export const isIPv4 = (s) => typeof s === 'string' && V4.test(s);

export function isIPv6(s) {
  if (typeof s !== 'string') return false;
  const zone = s.indexOf('%');
  if (zone >= 0) {
    if (!/^%[0-9a-zA-Z\-.:_~]+$/.test(s.slice(zone))) return false;
    s = s.slice(0, zone);
  }
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const groups = (part) => (part === '' ? [] : part.split(':'));
  const parts = halves.flatMap(groups);
  let count = parts.length;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (i === parts.length - 1 && p.includes('.')) {
      if (!isIPv4(p)) return false;
      count++; // an IPv4 tail is two groups
    } else if (!HEX.test(p)) return false;
  }
  return halves.length === 2 ? count <= 7 : count === 8;
}

export const isIP = (s) => (isIPv4(s) ? 4 : isIPv6(s) ? 6 : 0);
