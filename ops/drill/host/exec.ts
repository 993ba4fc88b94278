import { spawn } from "node:child_process";

export interface ExecResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs a host-side tool (docker, losetup, the drill's scripts); `check` (default) throws on a non-zero exit with its stderr. */
export function exec(cmd: string, args: string[], opts: { input?: string | Buffer; check?: boolean; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...opts.env } });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 300_000);
        child.stdout.on("data", (c: Buffer) => out.push(c));
        child.stderr.on("data", (c: Buffer) => err.push(c));
        child.on("error", (e) => {
            clearTimeout(timer);
            reject(new Error(`${cmd}: ${e.message}`));
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            const r = { code: code ?? (signal ? 128 : -1), stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
            if ((opts.check ?? true) && r.code !== 0) reject(new Error(`${cmd} ${args.join(" ")} exited ${r.code}${signal ? ` (${signal})` : ""}:\n${r.stderr || r.stdout}`));
            else resolve(r);
        });
        // A tool that exits without reading its input must not fail the caller with EPIPE.
        child.stdin.on("error", () => undefined);
        child.stdin.end(opts.input ?? "");
    });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value (not undefined) or the deadline passes; the error names what was awaited. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, everyMs = 1000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
        try {
            const v = await probe();
            if (v !== undefined) return v;
        } catch (e) {
            last = e;
        }
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
        await sleep(everyMs);
    }
}
