/** Exactly `n` bytes from hex, or the reason it is not (Rust `decode_hex`: alphabet first). */
export declare function decodeHex(s: string, n: number): Uint8Array | string;
/** `0x` then exactly `n` bytes of hex (Rust `parse_0x`). */
export declare function decodeHex0x(s: string, n: number, field: string): Uint8Array | string;
/** Lower-case hex. */
export declare function toHex(bytes: Uint8Array): string;
/** Hex of arbitrary even length, lower case only (the genesis `tsa_root`), or null. */
export declare function decodeLowerHex(s: string): Uint8Array | null;
