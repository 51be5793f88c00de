// The signed and hashed messages of a proof (specs/encoding.md §3.2–3.4).
//
// Owns: the tick's canonical bytes and hash, the batch's signing bytes (also its leaf content
// in the tick's batch tree) and leaf hash, and a finalize vote's signing bytes.
// Never: checks anything; every message binds to one network through the genesis hash `g`.
import { TAG, Writer } from './encoding.js';
import { hash, leafHash } from './merkle.js';
export function tickBytes(g, t) {
    return Writer.withTag(TAG.TICK)
        .bytes(g)
        .u64(t.height)
        .u64(t.view)
        .u64(t.second)
        .bytes(t.prev_hash)
        .bytes(t.batch_root)
        .u32(t.batch_count)
        .u16(t.proposer)
        .finish();
}
export function tickHash(g, t) {
    return hash(tickBytes(g, t));
}
/** What the batch signer signs: `tag | G | node u16 | second u64 | root 32 | count u32`. */
export function batchSigningBytes(g, b) {
    return Writer.withTag(TAG.BATCH).bytes(g).u16(b.node).u64(b.second).bytes(b.root).u32(b.count).finish();
}
export function batchLeaf(g, b) {
    return leafHash(batchSigningBytes(g, b));
}
/** A notarize or finalize vote: `tag | G | view u64 | tick_hash 32 | earliest i64 | latest i64`. */
export function voteSigningBytes(kind, g, view, tickHashValue, earliest, latest) {
    return Writer.withTag(kind === 'finalize' ? TAG.FINALIZE : TAG.NOTARIZE)
        .bytes(g)
        .u64(view)
        .bytes(tickHashValue)
        .i64(earliest)
        .i64(latest)
        .finish();
}
