export declare class Reader {
    private readonly data;
    private at;
    constructor(data: Uint8Array);
    take(field: string, n: number): Uint8Array;
    private uint;
    u8(field: string): number;
    u16(field: string): number;
    u32(field: string): number;
    u64(field: string): bigint;
    i64(field: string): bigint;
    remaining(): number;
    /** Succeeds only if every byte was read. */
    finish(): void;
}
