import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

/**
 * "Vanishes completely", checked: after teardown nothing of the stack may remain — no process,
 * no listener, no container or volume, no state dir, no stack file, no stack in the backend.
 * Probes are injected so the verdicts are unit-tested; `realProbes` asks the machine.
 */

export type LeakKind = "process" | "port" | "state-dir" | "stack-file" | "backend" | "backend-files" | "container" | "volume";

export interface Leak {
    kind: LeakKind;
    detail: string;
}

export interface LeakTarget {
    stack: string;
    /** `<state_dir>/<stack>`: server root, proxy dir and their pid files live here. */
    stackDir: string;
    /** pids read from the pid files while the stack was up (the files go away on destroy). */
    pids: Array<{ pid: number; name: string }>;
    ports: number[];
    /** The `Pulumi.<stack>.yaml` the workspace wrote. */
    stackFile: string;
    /** Docker object names the stack would own (runtime docker): `inner-universe-<stack>`. */
    dockerNamePrefix: string;
}

export interface LeakProbes {
    /** The command line of a live pid, or undefined when no such process exists. */
    cmdline(pid: number): string | undefined;
    /** pids of live processes whose command line mentions `needle`. */
    processesMentioning(needle: string): Array<{ pid: number; cmdline: string }>;
    listening(port: number): Promise<boolean>;
    exists(file: string): boolean;
    listStacks(): Promise<string[]>;
    /**
     * Files a file:// backend keeps about the stack after `stack rm` (backups, .bak checkpoints,
     * locks); undefined for backends whose files cannot be listed here (s3://).
     */
    backendFiles(stack: string): string[] | undefined;
    /** undefined when Docker is not reachable (then no container of ours can be running either). */
    dockerObjects(prefix: string): Promise<{ containers: string[]; volumes: string[] } | undefined>;
}

export interface LeakReport {
    leaks: Leak[];
    /** Things that could not be checked, with the reason (never a leak by themselves). */
    notes: string[];
}

export async function findLeaks(target: LeakTarget, probes: LeakProbes): Promise<LeakReport> {
    const leaks: Leak[] = [];
    const notes: string[] = [];
    const seen = new Set<number>();
    for (const { pid, name } of target.pids) {
        const cmd = probes.cmdline(pid);
        // A live pid running something else is pid reuse, not our process.
        if (cmd?.includes(name)) {
            seen.add(pid);
            leaks.push({ kind: "process", detail: `${name} pid ${pid} still running: ${cmd}` });
        }
    }
    // Catches processes whose pid file was never written or already removed.
    for (const p of probes.processesMentioning(target.stackDir)) {
        if (!seen.has(p.pid)) leaks.push({ kind: "process", detail: `pid ${p.pid} still uses ${target.stackDir}: ${p.cmdline}` });
    }
    for (const port of target.ports) {
        if (await probes.listening(port)) leaks.push({ kind: "port", detail: `something still listens on 127.0.0.1:${port}` });
    }
    if (probes.exists(target.stackDir)) leaks.push({ kind: "state-dir", detail: `${target.stackDir} still exists` });
    if (probes.exists(target.stackFile)) leaks.push({ kind: "stack-file", detail: `${target.stackFile} still exists` });
    const stacks = await probes.listStacks();
    if (stacks.includes(target.stack)) leaks.push({ kind: "backend", detail: `stack ${target.stack} is still in the backend` });
    const files = probes.backendFiles(target.stack);
    if (files === undefined) notes.push("backend files not listable here (non-file backend): rely on its lifecycle rules");
    else for (const f of files) leaks.push({ kind: "backend-files", detail: `${f} still exists` });
    const docker = await probes.dockerObjects(target.dockerNamePrefix);
    if (docker === undefined) {
        notes.push("docker not reachable: no containers or volumes to check");
    } else {
        for (const c of docker.containers) leaks.push({ kind: "container", detail: `container ${c} still exists` });
        for (const v of docker.volumes) leaks.push({ kind: "volume", detail: `volume ${v} still exists` });
    }
    return { leaks, notes };
}

export function formatLeaks(report: LeakReport): string {
    if (report.leaks.length === 0) return "no leaks";
    return report.leaks.map((l) => `${l.kind}: ${l.detail}`).join("\n");
}

/** Reads `<name>.pid` style files; a missing or garbled file is simply no pid. */
export function readPid(file: string): number | undefined {
    try {
        const text = fs.readFileSync(file, "utf8").trim();
        return /^\d+$/.test(text) ? Number(text) : undefined;
    } catch {
        return undefined;
    }
}

export function realProbes(listStacks: () => Promise<string[]>, backendUrl: string): LeakProbes {
    return {
        backendFiles: (stack) => backendFiles(backendUrl, stack),
        cmdline: procCmdline,
        processesMentioning(needle) {
            const out: Array<{ pid: number; cmdline: string }> = [];
            for (const entry of fs.readdirSync("/proc")) {
                if (!/^\d+$/.test(entry)) continue;
                const pid = Number(entry);
                if (pid === process.pid) continue;
                const cmd = procCmdline(pid);
                if (cmd?.includes(needle)) out.push({ pid, cmdline: cmd });
            }
            return out;
        },
        listening: portListening,
        exists: (f) => fs.existsSync(f),
        listStacks,
        dockerObjects,
    };
}

function procCmdline(pid: number): string | undefined {
    try {
        const raw = fs.readFileSync(path.join("/proc", String(pid), "cmdline"), "utf8");
        // Zombies have an empty command line and hold no ports or files: not a leak.
        return raw.length ? raw.replace(/\0+$/, "").replace(/\0/g, " ") : undefined;
    } catch {
        return undefined;
    }
}

export function portListening(port: number, host = "127.0.0.1"): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect({ port, host });
        const done = (v: boolean) => {
            socket.destroy();
            resolve(v);
        };
        socket.setTimeout(1000, () => done(false));
        socket.once("connect", () => done(true));
        socket.once("error", () => done(false));
    });
}

function dockerObjects(prefix: string): Promise<{ containers: string[]; volumes: string[] } | undefined> {
    const run = (args: string[]) =>
        new Promise<string[] | undefined>((resolve) => {
            execFile("docker", args, { timeout: 10_000 }, (err, stdout) =>
                resolve(
                    err
                        ? undefined
                        : stdout
                              .split("\n")
                              .map((s) => s.trim())
                              .filter(Boolean),
                ),
            );
        });
    return Promise.all([
        run(["ps", "-a", "--filter", `name=^/?${prefix}`, "--format", "{{.Names}}"]),
        run(["volume", "ls", "--filter", `name=${prefix}`, "--format", "{{.Name}}"]),
    ]).then(([containers, volumes]) => (containers === undefined || volumes === undefined ? undefined : { containers, volumes }));
}

/** Paths under a file:// backend's .pulumi dir named after the stack (the stack dir itself or `<stack>.*`). */
export function backendFiles(backendUrl: string, stack: string): string[] | undefined {
    if (!backendUrl.startsWith("file://")) return undefined;
    const root = path.join(backendUrl.slice("file://".length), ".pulumi");
    const found: string[] = [];
    const walk = (dir: string) => {
        let entries: fs.Dirent[];
        try {
            entries = fs.readdirSync(dir, { withFileTypes: true });
        } catch {
            return;
        }
        for (const e of entries) {
            const full = path.join(dir, e.name);
            if (e.name === stack || e.name.startsWith(`${stack}.`)) found.push(full);
            else if (e.isDirectory()) walk(full);
        }
    };
    walk(root);
    return found;
}
