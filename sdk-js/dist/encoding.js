// The canonical byte encoding of everything tickchain signs or hashes (specs/encoding.md §2).
//
// Owns: the domain tags, and a writer of fixed-width big-endian integers, raw bytes, tags (one
// length byte, then ASCII) and strings (u16 byte length, then UTF-8).
// Never: decides field order (messages.ts and genesis.ts do, once per message), or writes a
// value that does not fit its width (it throws instead: a bug, never input).
import { utf8Encode } from './bytes.js';
/** Domain tags (specs/encoding.md §3). */
export const TAG = {
    GENESIS: 'tickchain/genesis/v1',
    TICK: 'tickchain/tick/v1',
    BATCH: 'tickchain/batch/v1',
    NOTARIZE: 'tickchain/notarize/v1',
    FINALIZE: 'tickchain/finalize/v1',
    NULLIFY: 'tickchain/nullify/v1',
    ATTEST: 'tickchain/attest/v1',
};
export class Writer {
    buf = [];
    static withTag(tag) {
        return new Writer().tag(tag);
    }
    tag(tag) {
        this.buf.push(tag.length);
        for (let i = 0; i < tag.length; i++)
            this.buf.push(tag.charCodeAt(i));
        return this;
    }
    uint(v, bytes) {
        let x = BigInt(v);
        if (x < 0n || x >= 1n << BigInt(8 * bytes))
            throw new RangeError(`${v} does not fit ${bytes} bytes`);
        const out = new Array(bytes);
        for (let i = bytes - 1; i >= 0; i--) {
            out[i] = Number(x & 0xffn);
            x >>= 8n;
        }
        this.buf.push(...out);
        return this;
    }
    u8(v) {
        return this.uint(v, 1);
    }
    u16(v) {
        return this.uint(v, 2);
    }
    u32(v) {
        return this.uint(v, 4);
    }
    u64(v) {
        return this.uint(v, 8);
    }
    /** Two's complement, big-endian. */
    i64(v) {
        if (v < -(1n << 63n) || v >= 1n << 63n)
            throw new RangeError(`${v} does not fit i64`);
        return this.uint(BigInt.asUintN(64, v), 8);
    }
    bytes(v) {
        for (const b of v)
            this.buf.push(b);
        return this;
    }
    str(v) {
        const b = utf8Encode(v);
        return this.u16(b.length).bytes(b);
    }
    finish() {
        return Uint8Array.from(this.buf);
    }
}
