import { spawn } from "node:child_process";
import { toolEnv } from "./env";

export interface CliResult {
    code: number;
    stdout: string;
    stderr: string;
}

export interface CliOptions {
    /** The project directory the command runs in. */
    cwd: string;
    env?: Record<string, string>;
    /** Echo the CLI's output as it comes (tests: to stderr, so a failure shows the engine's words). */
    echo?: (chunk: string) => void;
}

/** Runs a command with the pinned tools on PATH; resolves with its exit code and output. */
export function run(command: string, args: string[], opts: CliOptions): Promise<CliResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { cwd: opts.cwd, env: { ...process.env, ...toolEnv(opts.env ?? {}) }, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => {
            stdout += d.toString();
            opts.echo?.(d.toString());
        });
        child.stderr.on("data", (d: Buffer) => {
            stderr += d.toString();
            opts.echo?.(d.toString());
        });
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });
}

/** `pulumi ARGS…` as a user types it. */
export const pulumi = (args: string[], opts: CliOptions) => run("pulumi", args, opts);

/** Like `pulumi`, but a non-zero exit is an error carrying the CLI's last lines. */
export async function pulumiOk(args: string[], opts: CliOptions): Promise<CliResult> {
    const r = await pulumi(args, opts);
    if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${r.code}:\n${(r.stdout + r.stderr).trim().split("\n").slice(-40).join("\n")}`);
    return r;
}

/** Operation counts of a stack's last update (`pulumi stack history --json`), e.g. { same: 16 }. */
export async function lastChanges(stack: string, opts: CliOptions): Promise<Record<string, number>> {
    const r = await pulumiOk(["stack", "history", "-s", stack, "--json"], opts);
    const history = JSON.parse(r.stdout) as { resourceChanges?: Record<string, number> }[];
    return history[0]?.resourceChanges ?? {};
}

/** Operation counts a `pulumi preview --json` reports. */
export function previewChanges(stdout: string): Record<string, number> {
    return (JSON.parse(stdout) as { changeSummary?: Record<string, number> }).changeSummary ?? {};
}

/** The operations other than "same" that ran (or would run) at least once. */
export function changed(counts: Record<string, number>): string[] {
    return Object.entries(counts)
        .filter(([op, n]) => op !== "same" && n > 0)
        .map(([op]) => op);
}

/** The stack's outputs (`pulumi stack output --json`); secrets only with showSecrets. */
export async function stackOutputs(stack: string, opts: CliOptions & { showSecrets?: boolean }): Promise<Record<string, unknown>> {
    const r = await pulumiOk(["stack", "output", "-s", stack, "--json", ...(opts.showSecrets ? ["--show-secrets"] : [])], opts);
    return JSON.parse(r.stdout) as Record<string, unknown>;
}

/**
 * Whether the CLI's output reports our policy pack as having run: `✅ inner-universe@v0.1.0` in the
 * interactive summary, a `Policy Packs run:` table row under --non-interactive.
 */
export function policyPackRan(output: string): boolean {
    return /inner-universe@v0\.1\.0/.test(output) || /Policy Packs run:[\s\S]*inner-universe\|local\|\S*policy\/pack\s+0\.1\.0/.test(output);
}

/** Runs a command with its output on this terminal (the user watches `pulumi up` as if typed); resolves with its exit code. */
export function runAttached(command: string, args: string[], opts: Pick<CliOptions, "cwd" | "env">): Promise<number> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { cwd: opts.cwd, env: { ...process.env, ...toolEnv(opts.env ?? {}) }, stdio: ["inherit", "inherit", "inherit"] });
        child.on("error", reject);
        child.on("close", (code, signal) => resolve(code ?? (signal === "SIGINT" ? 130 : 1)));
    });
}
