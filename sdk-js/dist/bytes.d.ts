/** The UTF-8 text of `bytes`, or null when they are not valid UTF-8. */
export declare function utf8Decode(bytes: Uint8Array): string | null;
export declare function utf8Encode(s: string): Uint8Array;
export declare function bytesEqual(a: Uint8Array, b: Uint8Array): boolean;
export declare function concatBytes(...parts: Uint8Array[]): Uint8Array;
