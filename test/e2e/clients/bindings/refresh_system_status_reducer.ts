// Hand-written module bindings: mirrors `spacetime generate --lang typescript` (SDK 1.3.x) output
// for reducer `refresh_system_status`. See config_type.ts for why, and how a mismatch is caught
// (the e2e test fails, it cannot pass).

import { AlgebraicType, BinaryReader, BinaryWriter } from "@clockworklabs/spacetimedb-sdk";

/** Arguments of `refresh_system_status(ctx)` (module/src/reducers/system.rs): none. */
export type RefreshSystemStatus = {};

/**
 * A namespace for generated helper functions.
 */
export namespace RefreshSystemStatus {
    /**
     * A function which returns this type represented as an AlgebraicType.
     * This function is derived from the AlgebraicType used to generate this type.
     */
    export function getTypeScriptAlgebraicType(): AlgebraicType {
        return AlgebraicType.createProductType([]);
    }

    export function serialize(writer: BinaryWriter, value: RefreshSystemStatus): void {
        RefreshSystemStatus.getTypeScriptAlgebraicType().serialize(writer, value);
    }

    export function deserialize(reader: BinaryReader): RefreshSystemStatus {
        return RefreshSystemStatus.getTypeScriptAlgebraicType().deserialize(reader) as RefreshSystemStatus;
    }
}
