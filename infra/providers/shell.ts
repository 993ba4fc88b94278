import * as pulumi from "@pulumi/pulumi";
import { providerAt } from "./load";

const shellProvider = providerAt("infra/providers/shell-impl.ts");

export interface LocalShellArgs {
    /** bash script (run with -euo pipefail) that creates the thing; its stdout becomes `stdout`. */
    create: pulumi.Input<string>;
    /** Run instead of `create` when a non-trigger input changes. */
    update?: pulumi.Input<string>;
    /** Run on delete; sees `environment` but not `secretEnvironment`. */
    delete?: pulumi.Input<string>;
    /** Run while diffing; non-zero exit means the real thing drifted (see `checkFailure`). */
    check?: pulumi.Input<string>;
    /** Drift repair: "replace" (default: delete + create) or "update" (run `update` in place). */
    checkFailure?: "update" | "replace";
    dir?: pulumi.Input<string>;
    environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Passed to create/update/check only; kept out of state except as a hash. */
    secretEnvironment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Any change replaces the resource. */
    triggers?: pulumi.Input<pulumi.Input<unknown>[]>;
    timeoutSeconds?: pulumi.Input<number>;
    deleteBeforeReplace?: boolean;
}

/** A local shell step managed by the Pulumi engine (our stand-in for @pulumi/command's local.Command). */
export class LocalShell extends pulumi.dynamic.Resource {
    declare readonly stdout: pulumi.Output<string>;

    constructor(name: string, args: LocalShellArgs, opts?: pulumi.CustomResourceOptions) {
        super(shellProvider, name, { ...args, stdout: undefined, secretEnvironmentHash: undefined }, opts, "inner-universe", "LocalShell");
    }
}
