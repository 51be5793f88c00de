import { type JsonValue, type PathSegment } from './json.js';
/** A schema violation at a path; the callers turn it into their own error type. */
export declare class SchemaError extends Error {
    readonly path: string;
    constructor(message: string, path: readonly PathSegment[]);
}
export type Path = readonly PathSegment[];
export declare const u8: (v: JsonValue, p: Path) => number;
export declare const u16: (v: JsonValue, p: Path) => number;
export declare const u32: (v: JsonValue, p: Path) => number;
export declare const u64: (v: JsonValue, p: Path) => bigint;
export declare const i64: (v: JsonValue, p: Path) => bigint;
export declare function str(v: JsonValue, path: Path): string;
/** Exactly `n` bytes as hex, either case, no prefix (Hash, Digest, Salt, keys, signatures). */
export declare function hexBytes(n: number): (v: JsonValue, p: Path) => Uint8Array;
/** Exactly `n` bytes as `0x` hex (EVM addresses, transaction hashes, secp256k1 signatures). */
export declare function hex0x(n: number, field: string): (v: JsonValue, p: Path) => Uint8Array;
export declare function list<T>(item: (v: JsonValue, p: Path) => T): (v: JsonValue, p: Path) => T[];
/** serde's `Option<T>`: JSON `null` is `None`. */
export declare function optional<T>(inner: (v: JsonValue, p: Path) => T): (v: JsonValue, p: Path) => T | undefined;
type Decoder<T> = (v: JsonValue, p: Path) => T;
type Field<T> = {
    readonly decode: Decoder<T>;
    readonly required: boolean;
};
type Shape = Record<string, Field<unknown>>;
type Decoded<S extends Shape> = {
    [K in keyof S]: S[K] extends Field<infer T> ? (S[K]['required'] extends true ? T : T | undefined) : never;
};
export declare function required<T>(decode: Decoder<T>): {
    decode: Decoder<T>;
    required: true;
};
/** A field with a serde default: absent means the caller's default. */
export declare function defaulted<T>(decode: Decoder<T>): {
    decode: Decoder<T>;
    required: false;
};
/**
 * A `#[serde(deny_unknown_fields)]` struct: fields decoded in document order; an unknown key
 * fails at its own path, a repeated or missing one at the struct's path (as
 * serde_path_to_error reports them).
 */
export declare function struct<S extends Shape>(shape: S, v: JsonValue, path: Path): Decoded<S>;
export {};
