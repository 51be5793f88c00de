export declare function keccak256(data: Uint8Array): Uint8Array;
/** The EIP-55 mixed-case text of a 20-byte address. */
export declare function toChecksumAddress(address: Uint8Array): string;
/** The address that signed the 32-byte `digest`, or the reason the signature is malformed. */
export declare function recoverSigner(digest: Uint8Array, sig: Uint8Array): {
    address: Uint8Array;
    error?: undefined;
} | {
    error: string;
    address?: undefined;
};
