// The proof's data model, mirroring the JSON form field for field (specs/proof.md §2).
//
// Owns: the shapes both proof forms decode into: snake_case names as in `.tcproof`, raw bytes
// for hashes, digests, salts, keys and signatures, bigint for every u64 and i64 (heights, views,
// seconds, clock readings, chain ids, block numbers), number for u8/u16/u32.
// Never: validates (decoders and verify.ts do) or carries anything a proof does not state.
export {};
