// Errors: the three ways an input can fail, each with the stable label the Rust verifier uses.
//
// Owns: VerifyError (one code per check of specs/proof.md §4, the codes the vectors are
// labelled with), ProofFormatError (the proof could not be decoded: the CLI's exit 2) and
// GenesisError (the genesis file is not acceptable, specs/encoding.md §3.1).
// Never: decides which check fails; never recovers from one.
/** A proof was read but one of the checks of specs/proof.md §4 (or §5's clock check) failed. */
export class VerifyError extends Error {
    code;
    constructor(code, message) {
        super(message);
        this.name = 'VerifyError';
        this.code = code;
    }
}
/** The proof bytes are not a well-formed proof in either form (before any cryptographic check). */
export class ProofFormatError extends Error {
    /** The field being read (`batch_path.siblings[3]`, `tick.prev_hash`), when one is known. */
    path;
    constructor(message, path) {
        super(message);
        this.name = 'ProofFormatError';
        this.path = path;
    }
}
/** The genesis document did not parse or did not validate. */
export class GenesisError extends Error {
    /** The JSON path or the genesis field at fault (`nodes[2].public_key`), when one is known. */
    path;
    constructor(message, path) {
        super(message);
        this.name = 'GenesisError';
        this.path = path;
    }
}
