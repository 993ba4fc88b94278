import * as pulumi from "@pulumi/pulumi";
import { LocalShell } from "../providers/shell";
import { script } from "./scripts";

export type DeleteDataPolicy = "never" | "on_conflict" | "always";

export interface ModulePublishArgs {
    /** Where the deploy runner reaches the server's publish routes. */
    serverUrl: pulumi.Input<string>;
    caCert?: pulumi.Input<string>;
    database: string;
    wasmPath: pulumi.Input<string>;
    wasmSha256: pulumi.Input<string>;
    token: pulumi.Input<string>;
    deleteData: DeleteDataPolicy;
    /** Values pushed into the module's config table after each publish (server_config, feature_flags). */
    settings: Record<string, Record<string, unknown>>;
    timeoutMs: number;
}

/**
 * Publishes the wasm as the deployer identity, then syncs the stack's settings into the module.
 * A publish happens when the artifact hash or the server changes, nothing else; settings are
 * re-sent after every publish and when they change.
 */
export class ModulePublish extends pulumi.ComponentResource {
    readonly databaseIdentity: pulumi.Output<string>;
    readonly publishedSha256: pulumi.Output<string>;
    /** Changes whenever the module or its settings were (re)applied; readiness keys off it. */
    readonly revision: pulumi.Output<string>;

    constructor(name: string, args: ModulePublishArgs, opts?: pulumi.ComponentResourceOptions) {
        super("inner-universe:module:Publish", name, {}, opts);
        const common = {
            IU_SERVER_URL: args.serverUrl,
            IU_CA_CERT: args.caCert ?? "",
            IU_DATABASE: args.database,
            IU_TIMEOUT_MS: String(args.timeoutMs),
        };
        const publish = new LocalShell(
            `${name}-wasm`,
            {
                create: script("publish.sh"),
                environment: { ...common, IU_WASM: args.wasmPath, IU_WASM_SHA256: args.wasmSha256, IU_DELETE_DATA: args.deleteData },
                secretEnvironment: { IU_TOKEN: args.token },
                triggers: [args.wasmSha256, args.serverUrl, args.database],
                timeoutSeconds: 600,
            },
            // Only the triggers republish: a new CA path or timeout must not touch the database.
            { parent: this, ignoreChanges: ["environment", "secretEnvironment"] },
        );
        const result = publish.stdout.apply(parsePublishOutput);

        const settingsJson = canonicalJson(args.settings);
        const settings = new LocalShell(
            `${name}-settings`,
            {
                create: script("module-settings.sh"),
                environment: { ...common, IU_SETTINGS_JSON: settingsJson },
                secretEnvironment: { IU_TOKEN: args.token },
                triggers: [publish.stdout, settingsJson],
                timeoutSeconds: 120,
            },
            { parent: this, ignoreChanges: ["environment", "secretEnvironment"] },
        );
        this.databaseIdentity = result.databaseIdentity;
        this.publishedSha256 = result.sha256;
        this.revision = pulumi.all([publish.stdout, settings.stdout]).apply(([p, s]) => `${p}\n${s}`);
        this.registerOutputs({ databaseIdentity: this.databaseIdentity, publishedSha256: this.publishedSha256 });
    }
}

export function parsePublishOutput(stdout: string): { databaseIdentity: string; op: string; sha256: string } {
    const parsed = JSON.parse(stdout.trim().split("\n").pop() ?? "") as Record<string, unknown>;
    const { databaseIdentity, op, sha256 } = parsed;
    if (typeof databaseIdentity !== "string" || !/^[0-9a-f]{64}$/.test(databaseIdentity) || typeof sha256 !== "string") {
        throw new Error(`publish printed an unexpected result: ${stdout}`);
    }
    return { databaseIdentity, op: String(op), sha256 };
}

/** Stable text for a settings object, so key order never causes a republish of settings. */
export function canonicalJson(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
    if (value !== null && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        return `{${Object.keys(obj).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
    }
    return JSON.stringify(value);
}
