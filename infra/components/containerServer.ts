import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { containerName, containerVolumeName, HOST_ROOT_DIR, SERVER_PORT } from "../facts";
import { ContainerUpgrade } from "../spacetimedb/containerUpgrade";
import type { UpgradeRecord } from "../spacetimedb/upgrade-impl";

export interface ContainerServerArgs {
    stack: string;
    image: string;
    /** Pull from a registry; false means the image was built or loaded locally. */
    pull: boolean;
    hostPort: number;
    inMemory: boolean;
    restart: "no" | "on-failure" | "always" | "unless-stopped";
    memoryMb?: number;
    healthcheck: { test: string[]; interval_s: number; timeout_s: number; retries: number; start_period_s: number };
    readyTimeoutSeconds: number;
    protect: boolean;
    /** What the upgrade gate needs besides: spacetimedb.version (the image's), the database it observes, where its backup goes. */
    version: string;
    database: string;
    backupDir: string;
    timeoutMs: number;
}

/** Where the server keeps its root inside the container (data + JWT keys), as in the official image. */
export const CONTAINER_ROOT = HOST_ROOT_DIR;
export const CONTAINER_PORT = SERVER_PORT;

/**
 * The test runtime: the server in a container, its root dir on a named volume (or in memory),
 * published on loopback only, stopped with SIGINT, restarted by Docker, health-checked.
 */
export class ContainerServer extends pulumi.ComponentResource {
    readonly url: pulumi.Output<string>;
    readonly containerName: pulumi.Output<string>;
    readonly volumeName?: pulumi.Output<string>;
    /** The last upgrade the gate made and the backup taken before it. */
    readonly lastUpgrade: pulumi.Output<UpgradeRecord | undefined>;

    constructor(name: string, args: ContainerServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("inner-universe:server:Container", name, {}, opts);
        const labels = [
            { label: "inner-universe.stack", value: args.stack },
            { label: "inner-universe.role", value: "spacetimedb" },
        ];
        const pulled = args.pull ? new docker.RemoteImage(`${name}-image`, { name: args.image, keepLocally: true }, { parent: this }) : undefined;
        const image = pulled ? pulled.imageId : pulumi.output(args.image);

        const volume = args.inMemory
            ? undefined
            : new docker.Volume(`${name}-root`, { name: containerVolumeName(args.stack), labels }, { parent: this, protect: args.protect, retainOnDelete: args.protect });

        // The gate's trial and helper containers run the new image: pulled first.
        const gate = volume ? this.createUpgradeGate(name, args, [volume, ...(pulled ? [pulled] : [])]) : undefined;
        const container = new docker.Container(`${name}-server`, containerSpec(name, args, image, volume?.name), {
            parent: this,
            deleteBeforeReplace: true,
            ...(gate ? { dependsOn: [gate] } : {}),
        });
        this.url = container.id.apply(() => `http://127.0.0.1:${args.hostPort}`);
        this.containerName = container.name;
        if (volume) this.volumeName = volume.name;
        this.lastUpgrade = gate ? gate.last : pulumi.output(undefined);
        this.registerOutputs({ url: this.url, containerName: this.containerName, volumeName: this.volumeName, lastUpgrade: this.lastUpgrade });
    }

    /** Before a new image replaces the container: the gate (backup, trial, way back). */
    private createUpgradeGate(name: string, args: ContainerServerArgs, after: pulumi.Resource[]): ContainerUpgrade {
        return new ContainerUpgrade(
            `${name}-upgrade`,
            {
                stack: args.stack,
                database: args.database,
                version: args.version,
                image: args.image,
                containerName: containerName(args.stack),
                volumeName: containerVolumeName(args.stack),
                rootDir: CONTAINER_ROOT,
                port: CONTAINER_PORT,
                hostPort: args.hostPort,
                backupDir: args.backupDir,
                readyTimeoutSeconds: args.readyTimeoutSeconds,
                timeoutMs: args.timeoutMs,
            },
            { parent: this, dependsOn: after },
        );
    }
}

/** The container's inputs, separate so tests (and the real-daemon check) read the exact spec. */
export function containerSpec(name: string, args: ContainerServerArgs, image: pulumi.Input<string>, volumeName?: pulumi.Input<string>): docker.ContainerArgs {
    const command = ["--root-dir=" + CONTAINER_ROOT, "start", "--listen-addr", `0.0.0.0:${CONTAINER_PORT}`];
    if (args.inMemory) command.push("--in-memory");
    return {
        name: containerName(args.stack),
        image,
        command,
        // The server listens on all interfaces inside its own network namespace; the host side is loopback only.
        ports: [{ internal: CONTAINER_PORT, external: args.hostPort, ip: "127.0.0.1", protocol: "tcp" }],
        volumes: volumeName ? [{ volumeName, containerPath: CONTAINER_ROOT }] : [],
        // SpacetimeDB treats SIGINT as the shutdown signal (Docker's default SIGTERM is a hard stop).
        stopSignal: "SIGINT",
        // PID 1 in a container ignores signals it has no handler for, and the 1.2 server installs
        // none: Docker's init (tini) forwards SIGINT so `docker stop` really stops it.
        init: true,
        stopTimeout: 30,
        destroyGraceSeconds: 30,
        restart: args.restart,
        memory: args.memoryMb,
        healthcheck: {
            tests: args.healthcheck.test,
            interval: `${args.healthcheck.interval_s}s`,
            timeout: `${args.healthcheck.timeout_s}s`,
            retries: args.healthcheck.retries,
            startPeriod: `${args.healthcheck.start_period_s}s`,
        },
        wait: true,
        waitTimeout: args.readyTimeoutSeconds,
        mustRun: true,
        labels: [
            { label: "inner-universe.stack", value: args.stack },
            { label: "inner-universe.role", value: "spacetimedb" },
            { label: "inner-universe.component", value: name },
        ],
        logDriver: "json-file",
        logOpts: { "max-size": "50m", "max-file": "5" },
    };
}
