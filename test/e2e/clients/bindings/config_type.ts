// Hand-written module bindings for the e2e SDK client (test/e2e/clients/sdkClient.ts).
//
// These files mirror, file for file and name for name, what
// `spacetime generate --lang typescript` (CLI 1.2/1.3, for @clockworklabs/spacetimedb-sdk 1.3.x)
// emits for the subset of the module this client uses: table `config` and reducers
// `set_config` and `refresh_system_status`. The CLI is not available here, so they are kept in
// step with module/src/tables.rs and module/src/reducers/*.rs by hand. They are not trusted
// blindly: before it connects, sdkClient.ts compares every type below with the schema the running
// server publishes (GET /v1/database/<db>/schema?version=9) and exits 1 on any difference. A
// mismatch therefore makes the e2e test fail; it can never make it pass.
//
// Differences from generated code, all type-level only: no `// @ts-nocheck` (these files are
// type-checked with the project's strict tsconfig), imports without `.ts` extensions, `override`
// where the project's `noImplicitOverride` requires it, and a typed access to the SDK's
// `clientCache` (declared private in the SDK's d.ts; generated code reaches it through
// `@ts-nocheck`).

import { AlgebraicType, BinaryReader, BinaryWriter, Identity, ProductTypeElement, Timestamp } from "@clockworklabs/spacetimedb-sdk";

/**
 * Row type of table `config` (module/src/tables.rs `struct Config`), columns in declaration order:
 * key String (primary key), value String, description Option<String>, updated_at Timestamp,
 * updated_by Identity. Field names are camelCased, as the generator does.
 */
export type Config = {
    key: string;
    value: string;
    description: string | undefined;
    updatedAt: Timestamp;
    updatedBy: Identity;
};

/**
 * A namespace for generated helper functions.
 */
export namespace Config {
    /**
     * A function which returns this type represented as an AlgebraicType.
     * This function is derived from the AlgebraicType used to generate this type.
     */
    export function getTypeScriptAlgebraicType(): AlgebraicType {
        return AlgebraicType.createProductType([
            new ProductTypeElement("key", AlgebraicType.createStringType()),
            new ProductTypeElement("value", AlgebraicType.createStringType()),
            new ProductTypeElement("description", AlgebraicType.createOptionType(AlgebraicType.createStringType())),
            new ProductTypeElement("updatedAt", AlgebraicType.createTimestampType()),
            new ProductTypeElement("updatedBy", AlgebraicType.createIdentityType()),
        ]);
    }

    export function serialize(writer: BinaryWriter, value: Config): void {
        Config.getTypeScriptAlgebraicType().serialize(writer, value);
    }

    export function deserialize(reader: BinaryReader): Config {
        return Config.getTypeScriptAlgebraicType().deserialize(reader) as Config;
    }
}
