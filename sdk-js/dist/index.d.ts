import { type VerifyCode } from './errors.js';
import type { Genesis } from './genesis.js';
import { Network, type VerifiedTimestamp } from './verify.js';
export type Outcome = {
    ok: true;
    result: VerifiedTimestamp;
} | {
    ok: false;
    code: VerifyCode | 'format_error' | 'genesis_error';
    message: string;
    field?: string;
};
/**
 * Verifies a proof (compact bytes, JSON bytes or JSON text) against a genesis (JSON text or
 * bytes, or an already parsed `Genesis`/`Network`). Runs specs/proof.md §4 only; add
 * `checkNotFuture` for §5's clock check.
 */
export declare function verifyProof(proof: Uint8Array | string, genesis: string | Uint8Array | Genesis | Network): Outcome;
export { GenesisError, ProofFormatError, VerifyError, type VerifyCode } from './errors.js';
export type { AttestationBinding } from './attest.js';
export { computeGenesisHash, genesisBytes, type Genesis, type GenesisGateway, type GenesisNode, } from './genesis.js';
export { parseGenesis } from './genesis-json.js';
export { parseProof, MAX_PROOF_BYTES } from './proof.js';
export { verifiedToJson } from './result-json.js';
export type { Anchor, AnchorProof, Batch, CertVote, FinalityCertificate, MerklePath, Proof, Tick } from './types.js';
export { checkNotFuture, FUTURE_MARGIN_S, MAX_SECOND, Network, type CertWindow, type CheckedAnchor, type VerifiedTimestamp, } from './verify.js';
export { keyProblem, verifyStrict, parseKey, type VerifyingKey } from './ed25519.js';
export { tickHash, batchSigningBytes, voteSigningBytes } from './messages.js';
export { toHex } from './hex.js';
