import * as pulumi from "@pulumi/pulumi";
import { Database } from "../spacetimedb/database";
import { ModuleSettings } from "../spacetimedb/moduleSettings";
import type { DeleteDataPolicy } from "../spacetimedb/protocol-impl";

export interface ModulePublishArgs {
    /** Where the deploy runner reaches the server's publish routes. */
    serverUrl: pulumi.Input<string>;
    database: string;
    /** Relative to the project root. */
    wasmPath: pulumi.Input<string>;
    wasmSha256: pulumi.Input<string>;
    token: pulumi.Input<string>;
    deleteData: DeleteDataPolicy;
    /** Values pushed into the module's config table after each publish (server_config, feature_flags). */
    settings: Record<string, Record<string, unknown>>;
    timeoutMs: number;
    /** CA of serverUrl's https certificate (a remote server behind a private CA), project-relative. */
    caCert?: string;
}

/**
 * Publishes the wasm as the deployer identity, then syncs the stack's settings into the module.
 * A publish happens when the artifact hash, the server or the database name changes, nothing
 * else; settings are re-sent after every publish and when they change.
 */
export class ModulePublish extends pulumi.ComponentResource {
    readonly databaseIdentity: pulumi.Output<string>;
    readonly publishedSha256: pulumi.Output<string>;
    /** Changes whenever the module or its settings were (re)applied; readiness keys off it. */
    readonly revision: pulumi.Output<string>;

    constructor(name: string, args: ModulePublishArgs, opts?: pulumi.ComponentResourceOptions) {
        super("inner-universe:module:Publish", name, {}, opts);
        const common = { serverUrl: args.serverUrl, database: args.database, token: args.token, timeoutMs: args.timeoutMs, ...(args.caCert ? { caCert: args.caCert } : {}) };
        const database = new Database(`${name}-wasm`, { ...common, wasmPath: args.wasmPath, wasmSha256: args.wasmSha256, deleteData: args.deleteData }, { parent: this });
        const settings = new ModuleSettings(`${name}-settings`, { ...common, settings: args.settings, publishRevision: database.revision }, { parent: this });
        this.databaseIdentity = database.databaseIdentity;
        this.publishedSha256 = database.sha256;
        this.revision = settings.revision;
        this.registerOutputs({ databaseIdentity: this.databaseIdentity, publishedSha256: this.publishedSha256 });
    }
}
