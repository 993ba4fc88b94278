import type * as pulumi from "@pulumi/pulumi";
import { daemonFiles } from "../lib/localLayout";
import { LocalShell } from "../providers/shell";
import { script } from "./scripts";

export interface DaemonArgs {
    /** scripts/<ctl> start|stop|status */
    ctl: string;
    environment: Record<string, pulumi.Input<string>>;
    /** Directory the process keeps its state in; survives process replacement. */
    stateDir: string;
    privateSubdirs: string[];
    deleteStateOnDestroy: boolean;
    protect: boolean;
    timeoutSeconds: number;
    dependsOn?: pulumi.Resource[];
}

/**
 * A local long-running process as two resources: its state directory (deleted only on destroy,
 * and only when allowed) and the process. The process is never replaced: a replacement would
 * cascade to everything that depends on it (Pulumi replaces dependents of a delete-before-replace),
 * re-minting the deployer identity. A changed setting or a dead process is an in-place update
 * whose `start` restarts the process only when its fingerprint (binary + arguments) differs or
 * it is not serving. Shared by the dev SpacetimeDB server and the dev TLS proxy.
 */
/** How a daemon's process step starts and stops it: the commands and the environment it runs them with. */
export function daemonControl(args: Pick<DaemonArgs, "ctl" | "environment" | "stateDir">) {
    const files = daemonFiles(args.stateDir);
    const filesEnv = { IU_PID_FILE: files.pid, IU_LOG_FILE: files.log, IU_FINGERPRINT_FILE: files.fingerprint };
    return { start: script(args.ctl, "start"), stop: script(args.ctl, "stop"), status: script(args.ctl, "status"), filesEnv, environment: { ...args.environment, ...filesEnv } };
}

export function localDaemon(name: string, parent: pulumi.Resource, args: DaemonArgs): LocalShell {
    const control = daemonControl(args);
    const filesEnv = control.filesEnv;
    const state = new LocalShell(
        `${name}-state`,
        {
            create: script("state-dir.sh", "create"),
            delete: script("state-dir.sh", "delete"),
            environment: {
                IU_DIR: args.stateDir,
                IU_PRIVATE_SUBDIRS: args.privateSubdirs.join(" "),
                IU_DELETE_ON_DESTROY: args.deleteStateOnDestroy ? "1" : "0",
                ...filesEnv,
            },
            triggers: [args.stateDir],
        },
        { parent, protect: args.protect, retainOnDelete: args.protect },
    );
    return new LocalShell(
        `${name}-process`,
        {
            create: control.start,
            update: control.start,
            check: control.status,
            delete: control.stop,
            checkFailure: "update",
            environment: control.environment,
            timeoutSeconds: args.timeoutSeconds,
        },
        { parent, dependsOn: [state, ...(args.dependsOn ?? [])] },
    );
}
