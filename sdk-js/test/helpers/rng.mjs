// A seeded PRNG for reproducible mutation runs.
//
// Owns: xorshift128+ over BigInt-free 32-bit state (splitmix32 seeding) and the small helpers
// the mutators use (int, pick, chance, bytes). Never: Math.random.

export class Rng {
  constructor(seed) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.state = [next(), next(), next(), next()];
  }

  /** A uniform 32-bit unsigned integer (xoshiro128**). */
  u32() {
    const s = this.state;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** An integer in [0, n). */
  int(n) {
    return Math.floor((this.u32() / 2 ** 32) * n);
  }

  chance(p) {
    return this.u32() / 2 ** 32 < p;
  }

  pick(items) {
    return items[this.int(items.length)];
  }

  bytes(n) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

function rotl(x, k) {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
