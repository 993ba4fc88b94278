import * as pulumi from "@pulumi/pulumi";
import { providerAt } from "../providers/load";
import type { UpgradeRecord } from "./upgrade-impl";

const provider = providerAt("infra/spacetimedb/upgrade-impl.ts");

export interface ServerUpgradeArgs {
    stack: string;
    database: string;
    /** The server root and the backup directory, project-relative. */
    rootDir: string;
    backupDir: string;
    /** spacetimedb.version: what the server step runs next. */
    version: string;
    /** Where the server answers once started (known before it is). */
    serverUrl: string;
    /** The server step's own start and stop commands and environment. */
    start: string;
    stop: string;
    environment: Record<string, pulumi.Input<string>>;
    readyTimeoutSeconds: number;
    timeoutMs: number;
}

/**
 * The gate a version change passes before the server step runs the new binary: a downgrade refused
 * in preview, a backup before the switch, checks after it, and the automatic way back
 * (infra/spacetimedb/upgrade-impl.ts). `last` records the last upgrade and its backup.
 */
export class ServerUpgrade extends pulumi.dynamic.Resource {
    static readonly TYPE = "pulumi-nodejs:dynamic/spacetimedb:ServerUpgrade";
    declare readonly plan: pulumi.Output<string>;
    declare readonly last: pulumi.Output<UpgradeRecord | undefined>;

    constructor(name: string, args: ServerUpgradeArgs, opts?: pulumi.CustomResourceOptions) {
        super(provider, name, { ...args, plan: undefined, last: undefined }, opts, "spacetimedb", "ServerUpgrade");
    }
}
