// A bounds-checked reader of the compact binary form (specs/encoding.md §2, §4).
//
// Owns: reading fixed-width big-endian fields from untrusted bytes and naming the field in
// every error (`truncated at tick.second: need 8 bytes, 1 remain`), and the trailing-bytes rule.
// Never: allocates for a length it has not bounded, or reads past the end.
import { ProofFormatError } from './errors.js';
export class Reader {
    data;
    at = 0;
    constructor(data) {
        this.data = data;
    }
    take(field, n) {
        const remaining = this.data.length - this.at;
        if (remaining < n) {
            throw new ProofFormatError(`compact proof: truncated at ${field}: need ${n} bytes, ${remaining} remain`, field);
        }
        const out = this.data.slice(this.at, this.at + n);
        this.at += n;
        return out;
    }
    uint(field, n) {
        let v = 0n;
        for (const b of this.take(field, n))
            v = (v << 8n) | BigInt(b);
        return v;
    }
    u8(field) {
        return Number(this.uint(field, 1));
    }
    u16(field) {
        return Number(this.uint(field, 2));
    }
    u32(field) {
        return Number(this.uint(field, 4));
    }
    u64(field) {
        return this.uint(field, 8);
    }
    i64(field) {
        return BigInt.asIntN(64, this.uint(field, 8));
    }
    remaining() {
        return this.data.length - this.at;
    }
    /** Succeeds only if every byte was read. */
    finish() {
        const count = this.remaining();
        if (count > 0) {
            throw new ProofFormatError(`compact proof: ${count} unexpected trailing bytes after the last field`);
        }
    }
}
