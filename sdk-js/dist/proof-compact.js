// The compact form of a proof (`.tcproof.bin`, specs/proof.md §3).
//
// Owns: decoding "TCPF" bytes and recomputing every omitted field exactly as the Rust SDK's
// `Proof::from_compact` does: batch.root and batch.count from digest, salt and batch_path;
// tick.batch_root and tick.batch_count from the batch leaf and tick_path; each descendant's
// height (wrapping +1) and prev_hash; the certificate's view and tick_hash from the certified
// tick; signers from the bitmap (LSB first); each anchor path's index and size from the range.
// Never: verifies (a recomputed field is only as good as the signatures over it), or accepts
// trailing bytes, an anchors count of 0, or a path whose index is not below its size.
import { ProofFormatError } from './errors.js';
import { batchLeaf, tickHash } from './messages.js';
import { digestLeaf, foldPath, pathLen } from './merkle.js';
import { MAX_ANCHORS } from './proof-json.js';
import { Reader } from './reader.js';
export const COMPACT_MAGIC = Uint8Array.of(0x54, 0x43, 0x50, 0x46); // "TCPF"
export const MAX_DESCENDANTS = 64;
const MAX_BITMAP_BYTES = 1024 / 8;
const U64_MASK = (1n << 64n) - 1n;
function invalid(field, reason) {
    return new ProofFormatError(`compact proof: invalid ${field}: ${reason}`, field);
}
function readPath(r, field) {
    const index = r.u32(field);
    const size = r.u32(field);
    if (index >= size)
        throw invalid(field, `leaf index ${index} is outside a tree of ${size} leaves`);
    const siblings = [];
    for (let i = pathLen(index, size); i > 0; i--)
        siblings.push(r.take(field, 32));
    return { index, size, siblings };
}
/** The leaf index and tree size of `height` in `from..=to`, or null (Rust `position`). */
export function anchorPosition(from, to, height) {
    if (height < from || height > to)
        return null;
    const index = height - from;
    const size = to - from + 1n;
    if (index > 0xffffffffn || size > 0xffffffffn)
        return null;
    return [Number(index), Number(size)];
}
function readAnchors(r, height) {
    const count = r.u8('anchors.count');
    if (count === 0 || count > MAX_ANCHORS) {
        throw invalid('anchors.count', `1 to ${MAX_ANCHORS} (the section is absent when there are none), got ${count}`);
    }
    const anchors = [];
    for (let i = 0; i < count; i++) {
        const chain_id = r.u64('anchors.chain_id');
        const contract = r.take('anchors.contract', 20);
        const anchor = {
            from: r.u64('anchors.anchor.from'),
            to: r.u64('anchors.anchor.to'),
            second: r.u64('anchors.anchor.second'),
            root: r.take('anchors.anchor.root', 32),
        };
        const tx_hash = r.take('anchors.tx_hash', 32);
        const block_number = r.u64('anchors.block_number');
        const position = anchorPosition(anchor.from, anchor.to, height);
        if (position === null) {
            throw invalid('anchors.anchor', `tick height ${height} is not in the range ${anchor.from}..=${anchor.to} (of at most 2^32-1 ticks)`);
        }
        const [index, size] = position;
        const siblings = [];
        for (let k = pathLen(index, size); k > 0; k--)
            siblings.push(r.take('anchors.path.siblings', 32));
        anchors.push({ chain_id, contract, anchor, tx_hash, block_number, path: { index, size, siblings } });
    }
    return anchors;
}
/** Decodes the compact form; throws `ProofFormatError`. */
export function decodeCompactProof(bytes) {
    const r = new Reader(bytes);
    const magic = r.take('magic', 4);
    if (!magic.every((b, i) => b === COMPACT_MAGIC[i])) {
        throw new ProofFormatError('not a proof: neither compact binary (starts with TCPF) nor UTF-8 JSON');
    }
    const version = r.u8('version');
    const genesis_hash = r.take('genesis_hash', 32);
    const digest = r.take('digest', 32);
    const salt = r.take('salt', 16);
    const batch_path = readPath(r, 'batch_path');
    const node = r.u16('batch.node');
    const second = r.u64('batch.second');
    const signature = r.take('batch.signature', 64);
    const batch = {
        node,
        second,
        root: foldPath(batch_path, digestLeaf(salt, digest)),
        count: batch_path.size,
        signature,
    };
    const tick_path = readPath(r, 'tick_path');
    const height = r.u64('tick.height');
    const view = r.u64('tick.view');
    const tickSecond = r.u64('tick.second');
    const prev_hash = r.take('tick.prev_hash', 32);
    const proposer = r.u16('tick.proposer');
    const tick = {
        height,
        view,
        second: tickSecond,
        prev_hash,
        batch_root: foldPath(tick_path, batchLeaf(genesis_hash, batch)),
        batch_count: tick_path.size,
        proposer,
    };
    const count = r.u8('descendants.count');
    if (count > MAX_DESCENDANTS) {
        throw invalid('descendants.count', `at most ${MAX_DESCENDANTS}, got ${count}`);
    }
    const descendants = [];
    for (let i = 0; i < count; i++) {
        const prev = descendants[descendants.length - 1] ?? tick;
        descendants.push({
            height: (prev.height + 1n) & U64_MASK,
            prev_hash: tickHash(genesis_hash, prev),
            view: r.u64('descendants.view'),
            second: r.u64('descendants.second'),
            batch_root: r.take('descendants.batch_root', 32),
            batch_count: r.u32('descendants.batch_count'),
            proposer: r.u16('descendants.proposer'),
        });
    }
    const certified = descendants[descendants.length - 1] ?? tick;
    const bitmapLen = r.u16('certificate.bitmap_len');
    if (bitmapLen > MAX_BITMAP_BYTES) {
        throw invalid('certificate.bitmap_len', `at most ${MAX_BITMAP_BYTES} bytes, got ${bitmapLen}`);
    }
    const bitmap = r.take('certificate.bitmap', bitmapLen);
    const votes = [];
    for (let i = 0; i < bitmapLen * 8; i++) {
        if ((bitmap[i >> 3] & (1 << (i & 7))) === 0)
            continue;
        votes.push({
            signer: i,
            earliest: r.i64('certificate.votes.earliest'),
            latest: r.i64('certificate.votes.latest'),
            signature: r.take('certificate.votes.signature', 64),
        });
    }
    const anchors = r.remaining() > 0 ? readAnchors(r, height) : [];
    r.finish();
    return {
        version,
        genesis_hash,
        digest,
        salt,
        batch_path,
        batch,
        tick_path,
        tick,
        descendants,
        certificate: { view: certified.view, tick_hash: tickHash(genesis_hash, certified), votes },
        anchors,
    };
}
