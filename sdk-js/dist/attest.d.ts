/** A genesis node's `attestation` object. */
export interface AttestationBinding {
    /** 20 bytes. */
    address: Uint8Array;
    /** 64 bytes. */
    ed25519_signature: Uint8Array;
    /** 65 bytes, `r || s || v`. */
    evm_signature: Uint8Array;
}
/** `tag | public_key 32 | evm_address 20`: what both keys sign. */
export declare function bindingMessage(publicKey: Uint8Array, address: Uint8Array): Uint8Array;
/** `address 20 | ed25519_signature 64 | evm_signature 65`. */
export declare function bindingBytes(b: AttestationBinding): Uint8Array;
/** Why the binding does not hold for `publicKey`, or null when both signatures check out. */
export declare function bindingProblem(b: AttestationBinding, publicKey: Uint8Array): string | null;
