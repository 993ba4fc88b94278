// Hand-written module bindings: mirrors `spacetime generate --lang typescript` (SDK 1.3.x) output
// for reducer `set_config`. See config_type.ts for why, and how a mismatch is caught (the e2e test
// fails, it cannot pass).

import { AlgebraicType, BinaryReader, BinaryWriter, ProductTypeElement } from "@clockworklabs/spacetimedb-sdk";

/** Arguments of `set_config(ctx, key: String, value: String)` (module/src/reducers/settings.rs). */
export type SetConfig = {
    key: string;
    value: string;
};

/**
 * A namespace for generated helper functions.
 */
export namespace SetConfig {
    /**
     * A function which returns this type represented as an AlgebraicType.
     * This function is derived from the AlgebraicType used to generate this type.
     */
    export function getTypeScriptAlgebraicType(): AlgebraicType {
        return AlgebraicType.createProductType([
            new ProductTypeElement("key", AlgebraicType.createStringType()),
            new ProductTypeElement("value", AlgebraicType.createStringType()),
        ]);
    }

    export function serialize(writer: BinaryWriter, value: SetConfig): void {
        SetConfig.getTypeScriptAlgebraicType().serialize(writer, value);
    }

    export function deserialize(reader: BinaryReader): SetConfig {
        return SetConfig.getTypeScriptAlgebraicType().deserialize(reader) as SetConfig;
    }
}
