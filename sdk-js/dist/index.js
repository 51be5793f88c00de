// The package's public API: verify a tickchain proof offline against a genesis file.
//
// Owns: `verifyProof` (one call, one outcome, never throws for bad input), and the re-exports
// that make up the API: parsers, `Network` for many proofs, the clock check, types, errors.
// Never: network calls, file I/O or a clock (the caller passes bytes, text and `now`).
//
// Outcomes map to the Rust CLI's exits: `ok: true` is exit 0; a `VerifyError` code is exit 1
// (`FAILED <code>`); `format_error` (the proof cannot be decoded) and `genesis_error` (the
// genesis is not acceptable) are exit 2.
import { GenesisError, ProofFormatError, VerifyError } from './errors.js';
import { parseGenesis } from './genesis-json.js';
import { parseProof } from './proof.js';
import { Network } from './verify.js';
/**
 * Verifies a proof (compact bytes, JSON bytes or JSON text) against a genesis (JSON text or
 * bytes, or an already parsed `Genesis`/`Network`). Runs specs/proof.md §4 only; add
 * `checkNotFuture` for §5's clock check.
 */
export function verifyProof(proof, genesis) {
    let network;
    try {
        network =
            genesis instanceof Network
                ? genesis
                : new Network(typeof genesis === 'string' || genesis instanceof Uint8Array ? parseGenesis(genesis) : genesis);
    }
    catch (e) {
        if (e instanceof GenesisError)
            return failure('genesis_error', e.message, e.path);
        throw e;
    }
    try {
        return { ok: true, result: network.verify(parseProof(proof)) };
    }
    catch (e) {
        if (e instanceof ProofFormatError)
            return failure('format_error', e.message, e.path);
        if (e instanceof VerifyError)
            return failure(e.code, e.message, undefined);
        throw e;
    }
}
function failure(code, message, field) {
    return field === undefined ? { ok: false, code, message } : { ok: false, code, message, field };
}
export { GenesisError, ProofFormatError, VerifyError } from './errors.js';
export { computeGenesisHash, genesisBytes, } from './genesis.js';
export { parseGenesis } from './genesis-json.js';
export { parseProof, MAX_PROOF_BYTES } from './proof.js';
export { verifiedToJson } from './result-json.js';
export { checkNotFuture, FUTURE_MARGIN_S, MAX_SECOND, Network, } from './verify.js';
export { keyProblem, verifyStrict, parseKey } from './ed25519.js';
export { tickHash, batchSigningBytes, voteSigningBytes } from './messages.js';
export { toHex } from './hex.js';
