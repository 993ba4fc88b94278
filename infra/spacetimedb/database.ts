import * as pulumi from "@pulumi/pulumi";
import { providerAt } from "../providers/load";
import type { DeleteDataPolicy } from "./protocol-impl";

const provider = providerAt("infra/spacetimedb/database-impl.ts");

export interface DatabaseArgs {
    serverUrl: pulumi.Input<string>;
    database: pulumi.Input<string>;
    /** The wasm, relative to the project root. */
    wasmPath: pulumi.Input<string>;
    wasmSha256: pulumi.Input<string>;
    /** The deployer's token (a secret input; never an output). */
    token: pulumi.Input<string>;
    deleteData: pulumi.Input<DeleteDataPolicy>;
    timeoutMs: pulumi.Input<number>;
    /** PEM of the private CA the server's https certificate chains to (project-relative); absent: the system's. */
    caCert?: pulumi.Input<string>;
}

/**
 * A module published to a named database (PUT /v1/database/<name>). Publishes when the wasm's
 * hash, the server or the name changes; refresh reads the running module's hash. Deleting the
 * resource leaves the database and its data on the server (infra/spacetimedb/database-impl.ts).
 */
export class Database extends pulumi.dynamic.Resource {
    static readonly TYPE = "pulumi-nodejs:dynamic/spacetimedb:Database";
    declare readonly databaseIdentity: pulumi.Output<string>;
    declare readonly ownerIdentity: pulumi.Output<string | undefined>;
    declare readonly op: pulumi.Output<string>;
    declare readonly sha256: pulumi.Output<string>;
    declare readonly cleared: pulumi.Output<boolean>;
    declare readonly revision: pulumi.Output<string>;
    /** What the last publish did to the schema and the data (database-impl.ts `check`). */
    declare readonly migrationPlan: pulumi.Output<string | undefined>;

    constructor(name: string, args: DatabaseArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            provider,
            name,
            { ...args, databaseIdentity: undefined, ownerIdentity: undefined, op: undefined, sha256: undefined, cleared: undefined, revision: undefined, migrationPlan: undefined },
            opts,
            "spacetimedb",
            "Database",
        );
    }
}
