// Byte helpers shared by every module: UTF-8 both ways, comparison, concatenation.
//
// Owns: strict UTF-8 decoding exactly as Rust's `str::from_utf8` (invalid sequences fail; a
// byte order mark is kept as U+FEFF, which JSON then refuses, as serde_json does).
// Never: guesses an encoding or replaces invalid bytes.

const STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const ENCODER = new TextEncoder();

/** The UTF-8 text of `bytes`, or null when they are not valid UTF-8. */
export function utf8Decode(bytes: Uint8Array): string | null {
  try {
    return STRICT.decode(bytes);
  } catch {
    return null;
  }
}

export function utf8Encode(s: string): Uint8Array {
  return ENCODER.encode(s);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
