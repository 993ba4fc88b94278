import * as path from "node:path";
import { containerName } from "../../infra/facts";
import { daemonFiles, stackLayout } from "../../infra/lib/localLayout";
import { assertDataUnprotected, type EphemeralPorts, ephemeralConfig, ProtectedStackError, protectedResources } from "./config";
import { findLeaks, formatLeaks, type LeakProbes, type LeakReport, type LeakTarget } from "./leaks";
import { ephemeralStackName, isEphemeralStackName } from "./naming";
import type { SmokeTest } from "./smoke";

/**
 * create → up → smoke → destroy → remove → leak check, for one uniquely named stack. Teardown runs
 * whatever happened before it (failed up, failed smoke, abort on SIGINT/SIGTERM); only a stack
 * the runner cannot prove to be disposable is left alone. Everything that touches the machine or
 * the engine comes in through `EphemeralDeps`, so the ordering is unit-tested with fakes and the
 * acceptance test runs the same code against the real engine.
 */

/** The slice of an Automation API stack the runner uses. */
export interface StackHandle {
    readonly name: string;
    up(opts: { signal: AbortSignal; onOutput: (s: string) => void }): Promise<{ outputs: Record<string, { value: unknown; secret?: boolean }> }>;
    destroy(opts: { onOutput: (s: string) => void }): Promise<void>;
    refresh(opts: { onOutput: (s: string) => void }): Promise<void>;
    configValues(): Promise<Record<string, unknown>>;
    /** The deployment from `stack export`: resources (with `protect`) and pending operations. */
    exportDeployment(): Promise<{ resources?: Array<{ urn: string; protect?: boolean }>; pending_operations?: unknown[] } | undefined>;
    /** Drops pending operations an interrupted update left behind, so destroy can proceed. */
    clearPendingOperations(): Promise<void>;
    /** `pulumi stack rm`: the stack leaves the backend and its Pulumi.<stack>.yaml goes away. */
    remove(): Promise<void>;
}

export interface OpenArgs {
    stack: string;
    backendUrl: string;
    workDir: string;
    config?: Record<string, unknown>;
}

export interface EphemeralDeps {
    projectRoot: string;
    listStacks(backendUrl: string, workDir: string): Promise<string[]>;
    openStack(args: OpenArgs): Promise<StackHandle>;
    /** A port nothing listens on; never the same one twice in one process. */
    freePort(): Promise<number>;
    makeTempRoot(name: string): string;
    mkdir(dir: string): void;
    removeDir(dir: string): void;
    readPid(file: string): number | undefined;
    probes(backendUrl: string, workDir: string): LeakProbes;
    /** Deletes what a file:// backend keeps after `stack rm` (backups, .bak files); no-op elsewhere. */
    purgeBackendFiles(backendUrl: string, stack: string): void;
    /** SIGINT, then SIGKILL after a grace period: used only on processes the leak check found. */
    stopProcess(pid: number): Promise<void>;
    now(): number;
    random(): string;
}

export interface RunOptions {
    label: string;
    backendUrl: string;
    /** `inner-universe:*` values of the base stack (Pulumi.dev.yaml by default). */
    baseConfig: Record<string, unknown>;
    smoke: SmokeTest;
    signal: AbortSignal;
    log: (line: string) => void;
    onOutput?: (s: string) => void;
    /** Extra environment the smoke hook gets (e.g. PULUMI_BACKEND_URL for the CLI). */
    smokeEnv?: Record<string, string>;
}

export type Phase = "create" | "up" | "smoke" | "done";

export interface RunReport {
    stack: string;
    ok: boolean;
    /** The phase that failed (or "done"). */
    phase: Phase;
    error?: string;
    interrupted: boolean;
    teardown: TeardownReport;
    atlas?: unknown;
}

export interface TeardownReport {
    steps: string[];
    destroyed: boolean;
    removed: boolean;
    /** Leaks right after destroy + remove: what the program itself left behind. */
    leaks: LeakReport;
    /** Leaks after the runner's own last-resort cleanup: must be empty. */
    remaining: LeakReport;
    refused?: string;
}

export async function runEphemeral(opts: RunOptions, deps: EphemeralDeps): Promise<RunReport> {
    const stack = ephemeralStackName({ label: opts.label, now: deps.now(), random: deps.random() });
    const root = deps.makeTempRoot(stack);
    // The engine runs the project's own files; the stack's Pulumi.<stack>.yaml lands beside them
    // (git-ignored: Pulumi.eph-*.yaml) and goes with `stack rm`, which the leak check verifies.
    const workDir = deps.projectRoot;
    const stateDir = path.join(root, "state");
    deps.mkdir(stateDir);
    const onOutput = opts.onOutput ?? (() => undefined);
    let phase: Phase = "create";
    let handle: StackHandle | undefined;
    let atlas: unknown;
    let error: unknown;
    let ports: EphemeralPorts = { spacetimedb: 0, tls: 0 };
    /** Set once the backend is known not to hold the name: from then on a stack of that name is ours. */
    let nameWasFree = false;
    const pids: LeakTarget["pids"] = [];
    const stackDir = path.join(stateDir, stack);
    const layout = stackLayout(stackDir);
    const pidFiles = [
        { file: daemonFiles(layout.rootDir).pid, name: "spacetimedb" },
        { file: daemonFiles(layout.proxyDir).pid, name: "caddy" },
    ];
    const recordPids = () => {
        for (const { file, name } of pidFiles) {
            const pid = deps.readPid(file);
            if (pid !== undefined && !pids.some((p) => p.pid === pid)) pids.push({ pid, name });
        }
    };

    try {
        if ((await deps.listStacks(opts.backendUrl, workDir)).includes(stack)) {
            throw new ProtectedStackError(stack, "a stack of that name already exists in the backend; the runner only touches stacks it created");
        }
        nameWasFree = true;
        ports = await distinctPorts(deps);
        const config = ephemeralConfig(opts.baseConfig, ports, stateDir);
        assertDataUnprotected(stack, config);
        opts.log(`ephemeral: creating ${stack} (ports ${ports.spacetimedb}/${ports.tls}, state ${stateDir})`);
        handle = await deps.openStack({ stack, backendUrl: opts.backendUrl, workDir, config });
        // What the engine will actually use (the stack file merged with our values).
        assertDataUnprotected(stack, await handle.configValues());
        throwIfAborted(opts.signal);

        phase = "up";
        opts.log(`ephemeral: up ${stack}`);
        const result = await handle.up({ signal: opts.signal, onOutput });
        recordPids();
        atlas = result.outputs.atlas?.value;
        throwIfAborted(opts.signal);

        phase = "smoke";
        opts.log(`ephemeral: smoke test ${stack}`);
        await opts.smoke({ stack, atlas, workDir, stackDir, env: opts.smokeEnv ?? {}, signal: opts.signal });
        phase = "done";
    } catch (e) {
        error = e;
        opts.log(`ephemeral: ${phase} failed: ${messageOf(e)}`);
    }

    if (!handle && nameWasFree) handle = await reopenIfCreated(stack, opts.backendUrl, workDir, deps, opts.log);
    recordPids();
    const target: LeakTarget = {
        stack,
        stackDir,
        pids,
        ports: [ports.spacetimedb, ports.tls].filter((p) => p > 0),
        stackFile: path.join(workDir, `Pulumi.${stack}.yaml`),
        dockerNamePrefix: containerName(stack),
    };
    const teardownReport = await teardown(handle, target, { ...opts, backendUrl: opts.backendUrl, workDir }, deps);
    if (!teardownReport.refused) deps.removeDir(root);

    const ok = error === undefined && teardownReport.leaks.leaks.length === 0 && teardownReport.remaining.leaks.length === 0;
    return {
        stack,
        ok,
        phase,
        interrupted: opts.signal.aborted,
        teardown: teardownReport,
        ...(error !== undefined ? { error: messageOf(error) } : {}),
        ...(atlas !== undefined ? { atlas } : {}),
    };
}

export interface DownOptions {
    backendUrl: string;
    log: (line: string) => void;
    onOutput?: (s: string) => void;
}

export interface DownReport {
    stack: string;
    ok: boolean;
    teardown?: TeardownReport;
    error?: string;
}

/**
 * Destroys and removes existing ephemeral stacks (a pull request's leftovers when it closes):
 * each must carry an ephemeral name, and pass the same protection guards as `run`'s teardown.
 * Their ports and state dir come from their own config when this machine still has it.
 */
export async function downEphemeral(names: string[], opts: DownOptions, deps: EphemeralDeps): Promise<DownReport[]> {
    const reports: DownReport[] = [];
    for (const stack of names) {
        if (!isEphemeralStackName(stack)) {
            reports.push({ stack, ok: false, error: new ProtectedStackError(stack, "its name is not an ephemeral stack name").message });
            continue;
        }
        const root = deps.makeTempRoot(stack);
        const workDir = deps.projectRoot;
        try {
            if (!(await deps.listStacks(opts.backendUrl, workDir)).includes(stack)) {
                reports.push({ stack, ok: true, error: "not in the backend: nothing to do" });
                continue;
            }
            const handle = await deps.openStack({ stack, backendUrl: opts.backendUrl, workDir });
            const values = await handle.configValues().catch(() => ({}) as Record<string, unknown>);
            const target = targetFromConfig(stack, values, workDir, deps.projectRoot);
            const report = await teardown(handle, target, { ...opts, workDir }, deps);
            const ok = !report.refused && report.removed && report.leaks.leaks.length === 0 && report.remaining.leaks.length === 0;
            reports.push({ stack, ok, teardown: report, ...(report.refused ? { error: report.refused } : {}) });
        } catch (e) {
            reports.push({ stack, ok: false, error: messageOf(e) });
        } finally {
            deps.removeDir(root);
        }
    }
    return reports;
}

/** Leak target of a stack this run did not create: whatever its config still tells us. */
export function targetFromConfig(stack: string, values: Record<string, unknown>, workDir: string, projectRoot: string): LeakTarget {
    const obj = (v: unknown): Record<string, unknown> => {
        const d = typeof v === "string" && v.trim().startsWith("{") ? (JSON.parse(v) as unknown) : v;
        return d && typeof d === "object" && !Array.isArray(d) ? (d as Record<string, unknown>) : {};
    };
    const stateDir = obj(values.local).state_dir;
    const ports = [obj(values.spacetimedb).port, obj(values.tls).port].filter((p): p is number => typeof p === "number");
    return {
        stack,
        // Without a state dir in config the stack was made elsewhere: a name that matches nothing here.
        stackDir: typeof stateDir === "string" ? path.join(path.resolve(projectRoot, stateDir), stack) : path.join(workDir, "no-local-state", stack),
        pids: [],
        ports,
        stackFile: path.join(workDir, `Pulumi.${stack}.yaml`),
        dockerNamePrefix: containerName(stack),
    };
}

/** An open that failed half-way (stack created, config not set) still left a stack to remove. */
async function reopenIfCreated(stack: string, backendUrl: string, workDir: string, deps: EphemeralDeps, log: (l: string) => void): Promise<StackHandle | undefined> {
    try {
        if (!(await deps.listStacks(backendUrl, workDir)).includes(stack)) return undefined;
        return await deps.openStack({ stack, backendUrl, workDir });
    } catch (e) {
        log(`ephemeral: could not reopen ${stack} for teardown: ${messageOf(e)}`);
        return undefined;
    }
}

interface TeardownContext {
    backendUrl: string;
    workDir: string;
    log: (line: string) => void;
    onOutput?: (s: string) => void;
}

/**
 * destroy → remove → leak check → last-resort cleanup → leak check again. Not abortable: a second
 * signal must not leave a half-destroyed stack behind.
 */
export async function teardown(handle: StackHandle | undefined, target: LeakTarget, ctx: TeardownContext, deps: EphemeralDeps): Promise<TeardownReport> {
    const steps: string[] = [];
    const onOutput = ctx.onOutput ?? (() => undefined);
    let destroyed = false;
    let removed = false;
    let refused: string | undefined;

    if (handle) {
        try {
            if (!isEphemeralStackName(handle.name)) throw new ProtectedStackError(handle.name, "its name is not an ephemeral stack name");
            assertDataUnprotected(handle.name, await handle.configValues());
            const deployment = await handle.exportDeployment();
            const kept = protectedResources(deployment);
            if (kept.length) throw new ProtectedStackError(handle.name, `it holds protected resources: ${kept.join(", ")}`);
            if (deployment?.pending_operations?.length) {
                steps.push("clear-pending");
                ctx.log(`ephemeral: clearing ${deployment.pending_operations.length} pending operation(s) left by the interrupted update`);
                await handle.clearPendingOperations();
            }
        } catch (e) {
            // Anything short of proof that the stack is disposable leaves it alone.
            refused = e instanceof ProtectedStackError ? e.message : `could not verify that ${handle.name} is disposable: ${messageOf(e)}`;
            ctx.log(`ephemeral: ${refused}`);
        }
        if (!refused) {
            destroyed = await attempt("destroy", steps, ctx, () => handle.destroy({ onOutput }));
            if (!destroyed) {
                // A resource that vanished on its own (a crashed server) can fail its delete; refresh drops it.
                (await attempt("refresh", steps, ctx, () => handle.refresh({ onOutput }))) &&
                    (destroyed = await attempt("destroy", steps, ctx, () => handle.destroy({ onOutput })));
            }
            // Removing a stack whose destroy failed would orphan what it still tracks.
            if (destroyed) removed = await attempt("remove", steps, ctx, () => handle.remove());
            // `stack rm` keeps backups of the checkpoint; for a throwaway stack they are residue.
            if (removed) await attempt("purge-backend", steps, ctx, async () => deps.purgeBackendFiles(ctx.backendUrl, handle.name));
        }
    }

    const probes = deps.probes(ctx.backendUrl, ctx.workDir);
    steps.push("leak-check");
    const leaks = await findLeaks(target, probes);
    let remaining = leaks;
    if (leaks.leaks.length > 0 && !refused) {
        ctx.log(`ephemeral: teardown left things behind:\n${formatLeaks(leaks)}`);
        steps.push("cleanup");
        await lastResortCleanup(target, leaks, probes, deps);
        steps.push("leak-check");
        remaining = await findLeaks(target, probes);
    }
    return { steps, destroyed, removed, leaks, remaining, ...(refused ? { refused } : {}) };
}

/** Only what is provably ours: processes using our unique state dir, and that state dir. */
async function lastResortCleanup(target: LeakTarget, report: LeakReport, probes: LeakProbes, deps: EphemeralDeps): Promise<void> {
    const pids = new Set<number>(probes.processesMentioning(target.stackDir).map((p) => p.pid));
    for (const { pid, name } of target.pids) if (probes.cmdline(pid)?.includes(name)) pids.add(pid);
    for (const pid of pids) await deps.stopProcess(pid);
    if (report.leaks.some((l) => l.kind === "state-dir")) deps.removeDir(target.stackDir);
}

async function attempt(step: string, steps: string[], ctx: TeardownContext, fn: () => Promise<void>): Promise<boolean> {
    steps.push(step);
    try {
        await fn();
        return true;
    } catch (e) {
        steps.push(`${step}-failed`);
        ctx.log(`ephemeral: ${step} failed: ${messageOf(e)}`);
        return false;
    }
}

async function distinctPorts(deps: EphemeralDeps): Promise<EphemeralPorts> {
    return { spacetimedb: await deps.freePort(), tls: await deps.freePort() };
}

function throwIfAborted(signal: AbortSignal): void {
    if (signal.aborted) throw new Error("interrupted (SIGINT/SIGTERM): tearing down");
}

/** Automation API errors carry the whole CLI transcript; the error lines say what went wrong. */
export function messageOf(e: unknown): string {
    const text = e instanceof Error ? e.message : String(e);
    const lines = text.split("\n").map((l) => l.trim());
    const errors = [...new Set(lines.filter((l) => /^error:|^Error:/.test(l)))];
    return errors.length > 0 ? errors.slice(0, 8).join("\n") : lines.slice(0, 12).join("\n");
}
