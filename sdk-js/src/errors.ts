// Errors: the three ways an input can fail, each with the stable label the Rust verifier uses.
//
// Owns: VerifyError (one code per check of specs/proof.md §4, the codes the vectors are
// labelled with), ProofFormatError (the proof could not be decoded: the CLI's exit 2) and
// GenesisError (the genesis file is not acceptable, specs/encoding.md §3.1).
// Never: decides which check fails; never recovers from one.

/** The stable codes of `VerifyError`, as `tickchain_sdk::VerifyError::code` returns them. */
export type VerifyCode =
  | 'unsupported_version'
  | 'wrong_genesis'
  | 'malformed_path'
  | 'batch_count_mismatch'
  | 'batch_inclusion'
  | 'unknown_batch_node'
  | 'bad_batch_signature'
  | 'invalid_second'
  | 'batch_after_tick'
  | 'tick_batch_count_mismatch'
  | 'tick_inclusion'
  | 'broken_chain'
  | 'wrong_tick_hash'
  | 'view_mismatch'
  | 'unknown_signer'
  | 'duplicate_signer'
  | 'too_few_signatures'
  | 'bad_signature'
  | 'tick_outside_window'
  | 'anchor_path'
  | 'future_second';

/** A proof was read but one of the checks of specs/proof.md §4 (or §5's clock check) failed. */
export class VerifyError extends Error {
  readonly code: VerifyCode;
  constructor(code: VerifyCode, message: string) {
    super(message);
    this.name = 'VerifyError';
    this.code = code;
  }
}

/** The proof bytes are not a well-formed proof in either form (before any cryptographic check). */
export class ProofFormatError extends Error {
  /** The field being read (`batch_path.siblings[3]`, `tick.prev_hash`), when one is known. */
  readonly path: string | undefined;
  constructor(message: string, path?: string) {
    super(message);
    this.name = 'ProofFormatError';
    this.path = path;
  }
}

/** The genesis document did not parse or did not validate. */
export class GenesisError extends Error {
  /** The JSON path or the genesis field at fault (`nodes[2].public_key`), when one is known. */
  readonly path: string | undefined;
  constructor(message: string, path?: string) {
    super(message);
    this.name = 'GenesisError';
    this.path = path;
  }
}
