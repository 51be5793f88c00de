/** The stable codes of `VerifyError`, as `tickchain_sdk::VerifyError::code` returns them. */
export type VerifyCode = 'unsupported_version' | 'wrong_genesis' | 'malformed_path' | 'batch_count_mismatch' | 'batch_inclusion' | 'unknown_batch_node' | 'bad_batch_signature' | 'invalid_second' | 'batch_after_tick' | 'tick_batch_count_mismatch' | 'tick_inclusion' | 'broken_chain' | 'wrong_tick_hash' | 'view_mismatch' | 'unknown_signer' | 'duplicate_signer' | 'too_few_signatures' | 'bad_signature' | 'tick_outside_window' | 'anchor_path' | 'future_second';
/** A proof was read but one of the checks of specs/proof.md §4 (or §5's clock check) failed. */
export declare class VerifyError extends Error {
    readonly code: VerifyCode;
    constructor(code: VerifyCode, message: string);
}
/** The proof bytes are not a well-formed proof in either form (before any cryptographic check). */
export declare class ProofFormatError extends Error {
    /** The field being read (`batch_path.siblings[3]`, `tick.prev_hash`), when one is known. */
    readonly path: string | undefined;
    constructor(message: string, path?: string);
}
/** The genesis document did not parse or did not validate. */
export declare class GenesisError extends Error {
    /** The JSON path or the genesis field at fault (`nodes[2].public_key`), when one is known. */
    readonly path: string | undefined;
    constructor(message: string, path?: string);
}
