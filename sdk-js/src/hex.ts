// Hex text of fixed-size byte values, read as the Rust SDK reads it.
//
// Owns: decoding exact-length hex (either case), the `0x` form (prefix required, lower-case
// `x`), lower-case encoding, and the error wording (`not hex: character 'g' at position 63`,
// `expected 64 hex characters (32 bytes), got 62`). Never: accepts a length other than the
// one asked for, whitespace, or a sign.

const HEX = '0123456789abcdef';

function digit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** Exactly `n` bytes from hex, or the reason it is not (Rust `decode_hex`: alphabet first). */
export function decodeHex(s: string, n: number): Uint8Array | string {
  let position = 0;
  for (const ch of s) {
    if (ch.length !== 1 || digit(ch.charCodeAt(0)) < 0) {
      return `not hex: character '${ch}' at position ${position}`;
    }
    position += 1;
  }
  if (s.length !== 2 * n) {
    return `expected ${2 * n} hex characters (${n} bytes), got ${utf8Length(s)}`;
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = digit(s.charCodeAt(2 * i)) * 16 + digit(s.charCodeAt(2 * i + 1));
  }
  return out;
}

/** `0x` then exactly `n` bytes of hex (Rust `parse_0x`). */
export function decodeHex0x(s: string, n: number, field: string): Uint8Array | string {
  if (!s.startsWith('0x')) return `${field}: expected a 0x prefix, found ${JSON.stringify(s)}`;
  const r = decodeHex(s.slice(2), n);
  return typeof r === 'string' ? `${field}: ${r}` : r;
}

/** Lower-case hex. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += HEX[b >> 4]! + HEX[b & 15]!;
  return out;
}

/** Hex of arbitrary even length, lower case only (the genesis `tsa_root`), or null. */
export function decodeLowerHex(s: string): Uint8Array | null {
  if (s.length % 2 !== 0) return null;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = digit(s.charCodeAt(2 * i));
    const lo = digit(s.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return null;
    out[i] = hi * 16 + lo;
  }
  return toHex(out) === s ? out : null;
}

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}
