import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { containerName, containerVolumeName, HOST_ROOT_DIR, SERVER_PORT } from "../facts";

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

    constructor(name: string, args: ContainerServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("inner-universe:server:Container", name, {}, opts);
        const labels = [
            { label: "inner-universe.stack", value: args.stack },
            { label: "inner-universe.role", value: "spacetimedb" },
        ];
        const image = args.pull ? new docker.RemoteImage(`${name}-image`, { name: args.image, keepLocally: true }, { parent: this }).imageId : pulumi.output(args.image);

        const volume = args.inMemory
            ? undefined
            : new docker.Volume(`${name}-root`, { name: containerVolumeName(args.stack), labels }, { parent: this, protect: args.protect, retainOnDelete: args.protect });

        const container = new docker.Container(`${name}-server`, containerSpec(name, args, image, volume?.name), { parent: this, deleteBeforeReplace: true });
        this.url = container.id.apply(() => `http://127.0.0.1:${args.hostPort}`);
        this.containerName = container.name;
        if (volume) this.volumeName = volume.name;
        this.registerOutputs({ url: this.url, containerName: this.containerName, volumeName: this.volumeName });
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
