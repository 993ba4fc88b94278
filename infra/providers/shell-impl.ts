/**
 * Runs inside Pulumi's dynamic-provider process (plain Node, loaded by path with type stripping),
 * so it uses only erasable TypeScript and Node built-ins.
 *
 * Semantics follow @pulumi/command's local.Command (create/update/delete scripts, triggers that
 * force replacement, stdout as output) plus one thing that provider cannot do: a `check` script
 * run while diffing, whose failure reports drift (e.g. the server process died) as an update or a
 * replacement, so `preview` shows it and `up` repairs it.
 */
import { spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { canonicalJson } from "../lib/canonicalJson.ts";

interface ShellInputs {
    create: string;
    update?: string;
    delete?: string;
    check?: string;
    dir?: string;
    environment?: Record<string, string>;
    secretEnvironment?: Record<string, string>;
    triggers?: unknown[];
    timeoutSeconds?: number;
    deleteBeforeReplace?: boolean;
    /** What a failing `check` asks for: "update" (run `update` in place) or "replace". */
    checkFailure?: "update" | "replace";
}

/**
 * stderr is not kept: it is diagnostics (shown when a step fails), and a build's names the
 * directory it compiled in, which would tie the state to one checkout.
 */
type ShellOutputs = Omit<ShellInputs, "secretEnvironment"> & {
    secretEnvironmentHash: string;
    stdout: string;
};

const MAX_OUTPUT = 64 * 1024;

export function envHash(env: Record<string, string> | undefined): string {
    return createHash("sha256")
        .update(canonicalJson(env ?? {}))
        .digest("hex");
}

export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

export function run(
    script: string,
    inputs: { dir?: string; environment?: Record<string, string>; secretEnvironment?: Record<string, string>; timeoutSeconds?: number },
): Promise<RunResult> {
    return new Promise((resolve) => {
        const child = spawn("bash", ["-euo", "pipefail", "-c", script], {
            cwd: inputs.dir || process.cwd(),
            env: { ...process.env, ...(inputs.environment ?? {}), ...(inputs.secretEnvironment ?? {}) },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout = (stdout + d.toString()).slice(-MAX_OUTPUT)));
        child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-MAX_OUTPUT)));
        const timer = setTimeout(() => child.kill("SIGKILL"), (inputs.timeoutSeconds ?? 600) * 1000);
        child.on("close", (code: number | null, signal: string | null) => {
            clearTimeout(timer);
            resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: signal ? `${stderr}\nkilled by ${signal} (timeout ${inputs.timeoutSeconds ?? 600}s)` : stderr });
        });
    });
}

async function runOrThrow(what: string, script: string, inputs: ShellInputs | (ShellOutputs & { secretEnvironment?: Record<string, string> })): Promise<RunResult> {
    const r = await run(script, inputs);
    if (r.code !== 0) {
        const tail = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-25).join("\n");
        throw new Error(`${what} failed (exit ${r.code}):\n${tail}`);
    }
    return r;
}

function outputsOf(inputs: ShellInputs, r: RunResult): ShellOutputs {
    const { secretEnvironment, ...rest } = inputs;
    return { ...rest, secretEnvironmentHash: envHash(secretEnvironment), stdout: r.stdout.trim() };
}

export async function create(inputs: ShellInputs) {
    const r = await runOrThrow("create", inputs.create, inputs);
    return { id: randomUUID(), outs: outputsOf(inputs, r) };
}

export async function diff(_id: string, olds: ShellOutputs, news: ShellInputs) {
    const replaces: string[] = [];
    if (canonicalJson(olds.triggers ?? []) !== canonicalJson(news.triggers ?? [])) replaces.push("triggers");
    const updated = (["create", "update", "delete", "check", "dir", "environment", "timeoutSeconds"] as const).filter((k) => canonicalJson(olds[k]) !== canonicalJson(news[k]));
    if (olds.secretEnvironmentHash !== envHash(news.secretEnvironment)) updated.push("secretEnvironment" as never);
    if (replaces.length === 0 && news.check) {
        const probe = await run(news.check, { ...news, timeoutSeconds: Math.min(news.timeoutSeconds ?? 60, 60) });
        if (probe.code !== 0) (news.checkFailure === "update" ? updated : replaces).push("check" as never);
    }
    return {
        changes: replaces.length > 0 || updated.length > 0,
        replaces,
        deleteBeforeReplace: Boolean(news.deleteBeforeReplace),
    };
}

export async function update(_id: string, _olds: ShellOutputs, news: ShellInputs) {
    const r = await runOrThrow("update", news.update ?? news.create, news);
    return { outs: outputsOf(news, r) };
}

export async function remove(_id: string, props: ShellOutputs) {
    if (props.delete) await runOrThrow("delete", props.delete, props);
}
