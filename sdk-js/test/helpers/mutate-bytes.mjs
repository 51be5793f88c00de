// Byte-level mutations of a proof file (either form): what a damaged file or transfer does.
//
// Owns: one random edit per call: a bit flip, a byte set, a truncation, a deleted or inserted
// or duplicated run, appended bytes. Never: knows the format.

export function mutateBytes(input, rng) {
  const b = Uint8Array.from(input);
  const at = rng.int(Math.max(b.length, 1));
  switch (rng.int(8)) {
    case 0:
    case 1:
    case 2: {
      b[at] ^= 1 << rng.int(8);
      return { bytes: b, what: `flip bit at ${at}` };
    }
    case 3: {
      b[at] = rng.int(256);
      return { bytes: b, what: `set byte ${at}` };
    }
    case 4: {
      const len = rng.int(b.length);
      return { bytes: b.slice(0, len), what: `truncate to ${len}` };
    }
    case 5: {
      const len = 1 + rng.int(Math.min(40, b.length - at));
      return { bytes: concat(b.slice(0, at), b.slice(at + len)), what: `delete ${len} at ${at}` };
    }
    case 6: {
      const len = 1 + rng.int(40);
      return { bytes: concat(b.slice(0, at), rng.bytes(len), b.slice(at)), what: `insert ${len} at ${at}` };
    }
    default: {
      const len = 1 + rng.int(rng.chance(0.5) ? 8 : 64);
      return { bytes: concat(b, rng.bytes(len)), what: `append ${len}` };
    }
  }
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
