import * as pulumi from "@pulumi/pulumi";
import { LocalShell } from "../providers/shell";
import { script } from "./scripts";

export interface ReadinessArgs {
    serverUrl: pulumi.Input<string>;
    caCert?: pulumi.Input<string>;
    /** Also ping the public (TLS) endpoint when set. */
    publicUrl?: pulumi.Input<string>;
    publicCaCert?: pulumi.Input<string>;
    database: string;
    token: pulumi.Input<string>;
    /** Re-run whenever this changes (the publish revision). */
    revision: pulumi.Input<string>;
    timeoutSeconds: number;
    timeoutMs: number;
}

/**
 * `up` succeeds only when the server answers /v1/ping and the module's initial data is readable.
 * The same probe runs (briefly) on every preview and `up`: an unhealthy database shows up as a
 * pending change instead of hiding behind an unchanged state file.
 */
export class Readiness extends pulumi.ComponentResource {
    readonly report: pulumi.Output<string>;

    constructor(name: string, args: ReadinessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("inner-universe:module:Readiness", name, {}, opts);
        const probe = script("readiness.sh");
        const check = new LocalShell(
            `${name}-probe`,
            {
                create: probe,
                update: probe,
                check: `IU_READY_TIMEOUT=5 ${probe}`,
                checkFailure: "update",
                environment: {
                    IU_SERVER_URL: args.serverUrl,
                    IU_CA_CERT: args.caCert ?? "",
                    IU_PUBLIC_URL: args.publicUrl ?? "",
                    IU_PUBLIC_CA_CERT: args.publicCaCert ?? "",
                    IU_DATABASE: args.database,
                    IU_READY_TIMEOUT: String(args.timeoutSeconds),
                    IU_TIMEOUT_MS: String(args.timeoutMs),
                },
                secretEnvironment: { IU_TOKEN: args.token },
                triggers: [args.revision],
                timeoutSeconds: args.timeoutSeconds + 30,
            },
            { parent: this, ignoreChanges: ["secretEnvironment"] },
        );
        this.report = check.stdout;
        this.registerOutputs({ report: this.report });
    }
}
