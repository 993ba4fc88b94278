import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort, listening } from "../../ops/ports";

/**
 * moto's server mode, a stand-in for the AWS API on a loopback port: no request leaves this
 * machine, and moto is not AWS (IAM is not enforced, a snapshot completes at once, an SSM command
 * "succeeds" without running anything). moto_server comes from `bash toolchain/setup-tools.sh`
 * (the tool manifest's MOTO_SERVER, or PATH); without it a test fails, it does not skip.
 */
function motoServer(): string {
    const manifest = process.env.IU_TOOLS_ENV ?? path.join(process.env.IU_CACHE ?? path.join(os.homedir(), ".cache", "inner-universe"), "tools.json");
    let pinned: string | undefined;
    try {
        pinned = (JSON.parse(fs.readFileSync(manifest, "utf8")) as { MOTO_SERVER?: string }).MOTO_SERVER;
    } catch {
        // no manifest: setup has not run (to its end) here
    }
    // The manifest's first: it is the version setup pins; PATH may hold another one.
    const found = [pinned, ...(process.env.PATH ?? "").split(":").map((d) => path.join(d, "moto_server"))].find((c) => c && fs.existsSync(c));
    if (!found)
        throw new Error(`moto_server not found (looked in the tool manifest ${manifest} and PATH); install it with \`bash toolchain/setup-tools.sh\` (a venv with moto[server])`);
    return found;
}

export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Moto {
    endpoint: string;
    /** Stops the server and puts the environment back as it was. */
    stop(): Promise<void>;
}

/**
 * Starts moto_server and points the AWS SDK's default chain at it: fake static credentials and
 * nothing else for the chain to find (no profile, no IMDS), AWS_ENDPOINT_URL set — code under
 * test is given no endpoint and must take the SDK's standard variable.
 */
export async function startMoto(): Promise<Moto> {
    const saved = { ...process.env };
    for (const k of Object.keys(process.env)) if (k.startsWith("AWS_")) delete process.env[k];
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_EC2_METADATA_DISABLED: "true" });
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    let output = "";
    const moto: ChildProcess = spawn(motoServer(), ["-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
    moto.stdout!.on("data", (d) => (output += d));
    moto.stderr!.on("data", (d) => (output += d));
    const exited = new Promise<never>((_, reject) => moto.once("exit", (code) => reject(new Error(`moto_server exited ${code} before listening:\n${output}`))));
    const up = (async () => {
        for (const deadline = Date.now() + 60_000; Date.now() < deadline; await pause(200)) if (await listening(port)) return;
        throw new Error(`moto_server not listening on ${port} after 60 s:\n${output}`);
    })();
    await Promise.race([up, exited]);
    exited.catch(() => {}); // its later exit (stop's kill) is no failure
    process.env.AWS_ENDPOINT_URL = endpoint;
    return {
        endpoint,
        async stop() {
            if (moto.exitCode === null && moto.signalCode === null) {
                const gone = new Promise((r) => moto.once("exit", r));
                moto.kill();
                await gone;
            }
            for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
            Object.assign(process.env, saved);
        },
    };
}
