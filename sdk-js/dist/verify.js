// Offline verification of a proof against a genesis (specs/proof.md §4), check by check.
//
// Owns: the ordered list of checks, the code each failure yields (the Rust `Network::verify`'s
// order, wording and codes), the certificate window, and the verified result. Also the clock
// check `tickchain verify` adds (§5), for callers that have a clock.
// Never: I/O, reading a clock, or trusting anything in the proof that the genesis keys do not sign.
import { bytesEqual } from './bytes.js';
import { parseKey, verifyStrict } from './ed25519.js';
import { VerifyError } from './errors.js';
import { toChecksumAddress } from './evm.js';
import { batchSigners, gatewayOf } from './genesis.js';
import { toHex } from './hex.js';
import { leafHash, rootFrom, digestLeaf } from './merkle.js';
import { batchLeaf, batchSigningBytes, tickHash, voteSigningBytes } from './messages.js';
export const PROOF_VERSION = 1;
/** The last second whose start in nanoseconds fits an i64: 9,223,372,036. */
export const MAX_SECOND = (1n << 63n) / 1000000000n;
/** How far ahead of the local clock `tickchain verify` accepts a certified tick, in seconds. */
export const FUTURE_MARGIN_S = 86400n;
const NANOS = 1000000000n;
const U64_MASK = (1n << 64n) - 1n;
const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
/** A genesis with its keys decoded once, ready to verify many proofs. */
export class Network {
    genesis;
    keys;
    gatewayKeys;
    /** `genesis` should come from `parseGenesis`; a key that does not decode fails its signatures. */
    constructor(genesis) {
        this.genesis = genesis;
        this.keys = genesis.nodes.map((n) => parseKey(n.public_key));
        this.gatewayKeys = genesis.gateways.map((g) => parseKey(g.public_key));
    }
    /** A ring member's signature (votes): gateways never vote, so a gateway id fails. */
    verifySignature(node, msg, sig) {
        const key = this.keys[node];
        return key !== undefined && key !== null && verifyStrict(key, msg, sig);
    }
    /** A batch signer's signature: node `i < n`, or gateway `i - n`. */
    verifyBatchSignature(signer, msg, sig) {
        const n = this.keys.length;
        const key = signer < n ? this.keys[signer] : this.gatewayKeys[signer - n];
        return key !== undefined && key !== null && verifyStrict(key, msg, sig);
    }
    /** §4.5: the batch's signer exists and signed it. */
    verifyBatch(batch) {
        const signers = batchSigners(this.genesis);
        if (batch.node >= signers) {
            throw new VerifyError('unknown_batch_node', `batch.node ${batch.node} is not in genesis (${signers} batch signers: nodes, then gateways)`);
        }
        const msg = batchSigningBytes(this.genesis.hash, batch);
        if (!this.verifyBatchSignature(batch.node, msg, batch.signature)) {
            throw new VerifyError('bad_batch_signature', `batch signature does not verify under batch signer ${batch.node}'s key`);
        }
    }
    /** §4.6: a second a tick can carry (after genesis, start fits an i64); returns its start (ns). */
    checkSecond(tick) {
        const gs = this.genesis.genesis_second;
        if (tick.second > MAX_SECOND || tick.second <= gs) {
            throw new VerifyError('invalid_second', `tick at height ${tick.height} has second ${tick.second}: a tick's second must be after the genesis second ${gs} and at most ${MAX_SECOND}`);
        }
        return tick.second * NANOS;
    }
    /** §4.9–4.12: `cert` finalizes `tick`; returns its window. */
    verifyCertificate(tick, cert) {
        const g = this.genesis;
        const computed = tickHash(g.hash, tick);
        if (!bytesEqual(computed, cert.tick_hash)) {
            throw new VerifyError('wrong_tick_hash', `wrong tick hash: tick hashes to ${toHex(computed)}, certificate.tick_hash is ${toHex(cert.tick_hash)}`);
        }
        if (cert.view !== tick.view) {
            throw new VerifyError('view_mismatch', `certificate.view ${cert.view} differs from tick.view ${tick.view}`);
        }
        const n = g.nodes.length;
        const seen = new Set();
        for (const vote of cert.votes) {
            if (vote.signer >= n) {
                throw new VerifyError('unknown_signer', `unknown signer ${vote.signer}: genesis has ${n} nodes`);
            }
            if (seen.has(vote.signer)) {
                throw new VerifyError('duplicate_signer', `duplicate signer ${vote.signer} in certificate`);
            }
            seen.add(vote.signer);
        }
        if (cert.votes.length < g.quorum) {
            throw new VerifyError('too_few_signatures', `too few signatures: ${cert.votes.length} distinct signers, quorum is ${g.quorum}`);
        }
        for (const vote of cert.votes) {
            const msg = voteSigningBytes('finalize', g.hash, cert.view, cert.tick_hash, vote.earliest, vote.latest);
            if (!this.verifySignature(vote.signer, msg, vote.signature)) {
                throw new VerifyError('bad_signature', `signature of signer ${vote.signer} does not verify over its finalize vote`);
            }
        }
        const earliest = cert.votes.map((v) => v.earliest).sort(cmp);
        const latest = cert.votes.map((v) => v.latest).sort((a, b) => cmp(b, a));
        const window = { earliest: earliest[g.f], latest: latest[g.f] };
        const start = this.checkSecond(tick);
        const early = BigInt(g.max_early_ms) * 1000000n;
        const late = BigInt(g.max_late_ms) * 1000000n;
        if (window.earliest < start - early || window.latest > start + late) {
            throw new VerifyError('tick_outside_window', `tick second ${tick.second} is outside the certificate window: earliest ${window.earliest} ns must be >= second - ${g.max_early_ms} ms and latest ${window.latest} ns <= second + ${g.max_late_ms} ms`);
        }
        return window;
    }
    /** Runs every check of specs/proof.md §4 in order; throws `VerifyError` at the first failure. */
    verify(proof) {
        const g = this.genesis;
        // §4.1 version, §4.2 network.
        if (proof.version !== PROOF_VERSION) {
            throw new VerifyError('unsupported_version', `unsupported proof version ${proof.version} (this verifier reads version 1)`);
        }
        if (!bytesEqual(proof.genesis_hash, g.hash)) {
            throw new VerifyError('wrong_genesis', `wrong genesis: proof is for ${toHex(proof.genesis_hash)}, the genesis file hashes to ${toHex(g.hash)}`);
        }
        // §4.3–4.4 digest → batch root.
        const batch = proof.batch;
        if (proof.batch_path.size !== batch.count) {
            throw new VerifyError('batch_count_mismatch', `batch_path.size is ${proof.batch_path.size} but batch.count is ${batch.count}`);
        }
        const batchRoot = rootFrom(proof.batch_path, digestLeaf(proof.salt, proof.digest));
        if (batchRoot.error !== undefined) {
            throw new VerifyError('malformed_path', `malformed batch_path: ${batchRoot.error}`);
        }
        if (!bytesEqual(batchRoot.root, batch.root)) {
            throw new VerifyError('batch_inclusion', `digest is not in the batch: salt, digest and batch_path lead to ${toHex(batchRoot.root)}, batch.root is ${toHex(batch.root)}`);
        }
        // §4.5 batch signature, §4.6 the tick's second, and batch before tick.
        this.verifyBatch(batch);
        const tick = proof.tick;
        this.checkSecond(tick);
        if (batch.second > tick.second) {
            throw new VerifyError('batch_after_tick', `batch sealed in second ${batch.second}, after tick second ${tick.second}`);
        }
        // §4.7 batch → tick.
        if (proof.tick_path.size !== tick.batch_count) {
            throw new VerifyError('tick_batch_count_mismatch', `tick_path.size is ${proof.tick_path.size} but tick.batch_count is ${tick.batch_count}`);
        }
        const tickRoot = rootFrom(proof.tick_path, batchLeaf(g.hash, batch));
        if (tickRoot.error !== undefined) {
            throw new VerifyError('malformed_path', `malformed tick_path: ${tickRoot.error}`);
        }
        if (!bytesEqual(tickRoot.root, tick.batch_root)) {
            throw new VerifyError('tick_inclusion', `batch is not in the tick: batch leaf and tick_path lead to ${toHex(tickRoot.root)}, tick.batch_root is ${toHex(tick.batch_root)}`);
        }
        // §4.8 tick → descendants (if any) → the certified tick.
        let certified = tick;
        for (const next of proof.descendants) {
            const link = tickHash(g.hash, certified);
            if (!bytesEqual(next.prev_hash, link) ||
                next.height !== ((certified.height + 1n) & U64_MASK) ||
                next.second <= certified.second) {
                throw new VerifyError('broken_chain', `broken chain: descendant at height ${next.height} does not extend the tick before it (prev_hash, height + 1, later second)`);
            }
            this.checkSecond(next);
            certified = next;
        }
        // §4.9–4.12 certified tick → certificate → window.
        const window = this.verifyCertificate(certified, proof.certificate);
        const signers = proof.certificate.votes.map((v) => v.signer).sort((a, b) => a - b);
        // §4.14 the tick's hash → each anchored root.
        const ownHash = tickHash(g.hash, tick);
        const anchors = proof.anchors.map((a, index) => checkAnchor(a, index, tick.height, ownHash));
        const result = {
            digest: toHex(proof.digest),
            second: tick.second,
            earliest: window.earliest,
            latest: window.latest,
            height: tick.height,
            certified_height: certified.height,
            tick_hash: toHex(proof.certificate.tick_hash),
            batch_node: batch.node,
            signers,
        };
        const gateway = gatewayOf(g, batch.node);
        if (gateway !== undefined)
            result.batch_gateway = gateway.name;
        if (anchors.length > 0)
            result.anchors = anchors;
        return result;
    }
}
/** §4.14 for one anchor: in range, path at the tick's position, leading to `anchor.root`. */
function checkAnchor(a, index, height, ownHash) {
    const fail = (why) => {
        throw new VerifyError('anchor_path', `anchors[${index}] (chain ${a.chain_id}): ${why}`);
    };
    const { from, to } = a.anchor;
    if (height < from || height > to) {
        fail(`tick height ${height} is outside the anchored range ${from}..=${to}`);
    }
    const expectedIndex = height - from;
    const span = to - from + 1n;
    const expectedSize = span > U64_MASK ? U64_MASK : span;
    if (BigInt(a.path.index) !== expectedIndex || BigInt(a.path.size) !== expectedSize) {
        fail(`path is leaf ${a.path.index} of ${a.path.size}, the tick is leaf ${expectedIndex} of ${expectedSize} in the range`);
    }
    const r = rootFrom(a.path, leafHash(ownHash));
    if (r.error !== undefined)
        fail(`malformed path: ${r.error}`);
    if (!bytesEqual(r.root, a.anchor.root)) {
        fail(`the tick leads to root ${toHex(r.root)}, anchor.root is ${toHex(a.anchor.root)}`);
    }
    return {
        chain_id: a.chain_id,
        contract: toChecksumAddress(a.contract),
        anchor: { from, to, second: a.anchor.second, root: toHex(a.anchor.root) },
        tx_hash: `0x${toHex(a.tx_hash)}`,
        block_number: a.block_number,
    };
}
/**
 * The clock check `tickchain verify` adds (specs/proof.md §5): fails with `future_second` when
 * the certified tick's second is more than `marginS` seconds after the second `nowNanos` falls in.
 * Run it after `Network.verify` accepted the proof.
 */
export function checkNotFuture(proof, nowNanos, marginS = FUTURE_MARGIN_S) {
    const certified = proof.descendants[proof.descendants.length - 1] ?? proof.tick;
    // Floor division: the second `now` falls in, also before 1970.
    const q = nowNanos / NANOS;
    const nowSecond = nowNanos < 0n && q * NANOS !== nowNanos ? q - 1n : q;
    const ahead = certified.second - nowSecond;
    if (ahead > marginS) {
        throw new VerifyError('future_second', `tick second ${certified.second} is ${ahead} s ahead of the local clock (second ${nowSecond}); at most ${marginS} s is accepted`);
    }
}
