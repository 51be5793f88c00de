/** Domain tags (specs/encoding.md §3). */
export declare const TAG: {
    readonly GENESIS: 'tickchain/genesis/v1';
    readonly TICK: 'tickchain/tick/v1';
    readonly BATCH: 'tickchain/batch/v1';
    readonly NOTARIZE: 'tickchain/notarize/v1';
    readonly FINALIZE: 'tickchain/finalize/v1';
    readonly NULLIFY: 'tickchain/nullify/v1';
    readonly ATTEST: 'tickchain/attest/v1';
};
export declare class Writer {
    private buf;
    static withTag(tag: string): Writer;
    tag(tag: string): this;
    private uint;
    u8(v: number): this;
    u16(v: number): this;
    u32(v: number): this;
    u64(v: bigint): this;
    /** Two's complement, big-endian. */
    i64(v: bigint): this;
    bytes(v: Uint8Array): this;
    str(v: string): this;
    finish(): Uint8Array;
}
