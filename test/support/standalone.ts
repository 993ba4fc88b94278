import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * A real spacetimedb-standalone 1.2.0 that no stack runs, for the tests that need a server of
 * their own (the providers against real HTTP, the metrics the agent scrapes, runtime remote).
 * The binary is the one scripts/setup-tools.sh installs; without it the test fails with the fix.
 */
export function standaloneBinary(): string {
    const cache = process.env.IU_CACHE ?? path.join(os.homedir(), ".cache", "inner-universe");
    const dirs = [...(process.env.PATH ?? "").split(path.delimiter), path.join(cache, "spacetimedb-standalone-1.2.0", "bin")];
    const found = dirs.map((d) => path.join(d, "spacetimedb-standalone")).find((f) => fs.existsSync(f));
    if (!found) throw new Error("spacetimedb-standalone 1.2.0 not found on PATH or in the tool cache: run `bash scripts/setup-tools.sh`");
    return found;
}

export interface Standalone {
    url: string;
    child: ChildProcess;
    /** Stops the process (SIGKILL unless told: 1.2 installs no handler, any signal is abrupt) and waits for its exit. */
    stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts the server on `root` (data and JWT keys, as server-ctl.sh lays them out) and waits for /v1/ping. */
export async function startStandalone(root: string, port: number, opts: { logFile?: string; readyTimeoutMs?: number } = {}): Promise<Standalone> {
    fs.mkdirSync(path.join(root, "config"), { recursive: true });
    const logFile = opts.logFile ?? path.join(root, "server.log");
    const url = `http://127.0.0.1:${port}`;
    const args = ["start", "--data-dir", path.join(root, "data"), "--jwt-pub-key-path", path.join(root, "config", "id_ecdsa.pub")];
    args.push("--jwt-priv-key-path", path.join(root, "config", "id_ecdsa"), "--listen-addr", `127.0.0.1:${port}`);
    const child = spawn(standaloneBinary(), args, { stdio: ["ignore", "ignore", fs.openSync(logFile, "a")], env: { ...process.env, SPACETIMEDB_DISABLE_DISK_LOGGING: "1" } });
    const stop = async (signal: NodeJS.Signals = "SIGKILL") => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        await new Promise<void>((resolve) => {
            child.once("exit", () => resolve());
            child.kill(signal);
        });
    };
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
    while (Date.now() < deadline) {
        const up = await fetch(`${url}/v1/ping`, { signal: AbortSignal.timeout(500) }).then(
            (r) => r.status === 200,
            () => false,
        );
        if (up) return { url, child, stop };
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 200));
    }
    await stop();
    throw new Error(`spacetimedb-standalone did not start on ${url}: ${fs.readFileSync(logFile, "utf8")}`);
}
