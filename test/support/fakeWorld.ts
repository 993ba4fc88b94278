import * as path from "node:path";
import { daemonFiles, stackLayout } from "../../infra/lib/localLayout";
import type { LeakProbes } from "../../ops/ephemeral/leaks";
import type { EphemeralDeps, OpenArgs, StackHandle } from "../../ops/ephemeral/run";

/**
 * A machine and a backend in memory: the fake stack starts "processes", opens "ports" and writes
 * "files" on up, and removes them on destroy — unless a test tells it to misbehave. Every call is
 * journaled so tests can assert the order of create → up → smoke → destroy → remove → leak check.
 */
export interface Misbehaviour {
    upFails?: boolean;
    /** up never finishes on its own; it rejects when the abort signal fires. */
    upHangsUntilAbort?: boolean;
    destroyFailures?: number;
    /** destroy "succeeds" but the server process keeps running. */
    destroyLeavesProcess?: boolean;
    configValues?: Record<string, unknown>;
    protectedUrns?: string[];
    pendingOperations?: number;
    /** The backend already holds every stack name (a collision). */
    nameTaken?: boolean;
    /** The first open creates the stack in the backend, then fails (setting config failed). */
    openFailsAfterCreate?: boolean;
}

export class FakeWorld {
    readonly journal: string[] = [];
    readonly stacks = new Set<string>();
    readonly files = new Set<string>();
    readonly pidFiles = new Map<string, number>();
    readonly processes = new Map<number, string>();
    readonly listeningPorts = new Set<number>();
    private nextPid = 100;
    private openedOnce = false;
    private nextPort = 40000;

    constructor(readonly misbehave: Misbehaviour = {}) {}

    deps(): EphemeralDeps {
        return {
            projectRoot: "/repo",
            listStacks: async () => {
                this.journal.push("list-stacks");
                return [...this.stacks];
            },
            openStack: async (args) => {
                this.journal.push("open");
                this.stacks.add(args.stack);
                this.files.add(path.join(args.workDir, `Pulumi.${args.stack}.yaml`));
                if (this.misbehave.openFailsAfterCreate && !this.openedOnce) {
                    this.openedOnce = true;
                    throw new Error("error: setting config failed");
                }
                return this.stack(args);
            },
            freePort: async () => this.nextPort++,
            makeTempRoot: (name) => {
                const root = `/tmp/iu-${name}-x`;
                if (this.misbehave.nameTaken) this.stacks.add(name);
                this.files.add(root);
                return root;
            },
            mkdir: (dir) => void this.files.add(dir),
            removeDir: (dir) => {
                this.journal.push(`rm ${dir}`);
                for (const f of [...this.files]) if (f === dir || f.startsWith(`${dir}/`)) this.files.delete(f);
            },
            readPid: (file) => this.pidFiles.get(file),
            probes: () => this.probes(),
            purgeBackendFiles: () => void this.journal.push("purge-backend"),
            stopProcess: async (pid) => {
                this.journal.push(`kill ${pid}`);
                this.processes.delete(pid);
            },
            now: () => Date.UTC(2026, 0, 2, 3, 4, 5),
            random: () => "ab12",
        };
    }

    private stack(args: OpenArgs): StackHandle {
        const m = this.misbehave;
        // Where the stack's config puts local state (the runner's temp state dir).
        const stateDir = (args.config?.local as { state_dir?: string } | undefined)?.state_dir ?? path.join(args.workDir, "no-state");
        const stackDir = path.join(stateDir, args.stack);
        const ports = args.config ? [(args.config.spacetimedb as { port: number }).port, (args.config.tls as { port: number }).port] : [];
        let destroyFailures = m.destroyFailures ?? 0;
        return {
            name: args.stack,
            up: async ({ signal }) => {
                this.journal.push("up");
                const server = this.nextPid++;
                const caddy = this.nextPid++;
                this.processes.set(server, `spacetimedb-standalone start --data-dir ${stackDir}/stdb/data`);
                this.processes.set(caddy, `caddy run --config ${stackDir}/caddy/Caddyfile`);
                this.pidFiles.set(daemonFiles(stackLayout(stackDir).rootDir).pid, server);
                this.pidFiles.set(daemonFiles(stackLayout(stackDir).proxyDir).pid, caddy);
                for (const p of ports) this.listeningPorts.add(p);
                this.files.add(stackDir);
                if (m.upHangsUntilAbort) {
                    await new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("update cancelled"))));
                }
                if (m.upFails) throw new Error("error: update failed");
                return { outputs: { atlas: { value: { schemaVersion: 1, stack: args.stack } } } };
            },
            destroy: async () => {
                this.journal.push("destroy");
                if (destroyFailures > 0) {
                    destroyFailures--;
                    throw new Error("error: delete failed");
                }
                for (const [pid, cmd] of [...this.processes]) {
                    if (cmd.includes(stackDir) && !(m.destroyLeavesProcess && cmd.startsWith("spacetimedb"))) this.processes.delete(pid);
                }
                for (const f of [...this.pidFiles.keys()]) if (f.startsWith(stackDir)) this.pidFiles.delete(f);
                for (const p of ports) this.listeningPorts.delete(p);
                this.files.delete(stackDir);
            },
            refresh: async () => void this.journal.push("refresh"),
            configValues: async () => {
                this.journal.push("config");
                return m.configValues ?? (args.config as Record<string, unknown>) ?? {};
            },
            exportDeployment: async () => {
                this.journal.push("export");
                return {
                    resources: (m.protectedUrns ?? []).map((urn) => ({ urn, protect: true })),
                    ...(m.pendingOperations ? { pending_operations: Array.from({ length: m.pendingOperations }, () => ({})) } : {}),
                };
            },
            clearPendingOperations: async () => void this.journal.push("clear-pending"),
            remove: async () => {
                this.journal.push("remove");
                this.stacks.delete(args.stack);
                this.files.delete(path.join(args.workDir, `Pulumi.${args.stack}.yaml`));
            },
        };
    }

    probes(): LeakProbes {
        return {
            cmdline: (pid) => this.processes.get(pid),
            processesMentioning: (needle) => [...this.processes].filter(([, c]) => c.includes(needle)).map(([pid, cmdline]) => ({ pid, cmdline })),
            listening: async (port) => this.listeningPorts.has(port),
            exists: (f) => this.files.has(f),
            listStacks: async () => [...this.stacks],
            backendFiles: () => [],
            dockerObjects: async () => ({ containers: [], volumes: [] }),
        };
    }

    /** The journal without the bookkeeping calls, for ordering assertions. */
    steps(): string[] {
        return this.journal.filter((s) => !["list-stacks", "config", "export"].includes(s) && !s.startsWith("rm "));
    }
}
