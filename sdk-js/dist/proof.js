// Reading a proof in either form, detected as the Rust SDK's `Proof::from_bytes` detects it.
//
// Owns: `parseProof`: the size cap (131,072 bytes), the compact magic, the UTF-8 rule for the
// JSON form, and turning every decoding failure into a `ProofFormatError` with a field path.
// Never: verifies.
import { utf8Decode, utf8Encode } from './bytes.js';
import { ProofFormatError } from './errors.js';
import { JsonSyntaxError } from './json.js';
import { COMPACT_MAGIC, decodeCompactProof } from './proof-compact.js';
import { decodeJsonProof } from './proof-json.js';
import { SchemaError } from './schema.js';
export const MAX_PROOF_BYTES = 128 * 1024;
/**
 * Parses a proof: bytes starting with "TCPF" are the compact form, anything else must be UTF-8
 * JSON. A string is taken as its UTF-8 bytes. Throws `ProofFormatError`.
 */
export function parseProof(input) {
    const bytes = typeof input === 'string' ? utf8Encode(input) : input;
    if (bytes.length > MAX_PROOF_BYTES) {
        throw new ProofFormatError(`proof is ${bytes.length} bytes, the limit is ${MAX_PROOF_BYTES}`);
    }
    if (bytes.length >= 4 && COMPACT_MAGIC.every((b, i) => bytes[i] === b)) {
        return decodeCompactProof(bytes);
    }
    const text = utf8Decode(bytes);
    if (text === null) {
        throw new ProofFormatError('not a proof: neither compact binary (starts with TCPF) nor UTF-8 JSON');
    }
    try {
        return decodeJsonProof(text);
    }
    catch (e) {
        if (e instanceof JsonSyntaxError || e instanceof SchemaError) {
            throw new ProofFormatError(`proof JSON at ${e.path}: ${e.message}`, e.path);
        }
        throw e;
    }
}
