import { Point } from '@noble/ed25519';
/** dalek's `CompressedEdwardsY::decompress`: null when y is not the y of a curve point. */
export declare function decompress(bytes: Uint8Array): Point | null;
/** A public key as dalek's `VerifyingKey::from_bytes` holds it: the bytes and their point. */
export interface VerifyingKey {
    readonly bytes: Uint8Array;
    readonly point: Point;
}
/** Parses a key; null when it does not decompress (dalek `parse_key`). */
export declare function parseKey(bytes: Uint8Array): VerifyingKey | null;
/** Why a genesis key is refused, or null: it must decompress and not be weak (small order). */
export declare function keyProblem(bytes: Uint8Array): string | null;
/** `verify_strict`: true only when dalek 2.2 would accept `signature` on `message` by `key`. */
export declare function verifyStrict(key: VerifyingKey, message: Uint8Array, signature: Uint8Array): boolean;
