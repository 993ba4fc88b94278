import { execFile } from "node:child_process";
import * as path from "node:path";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "./paths";

export interface SdkResult {
    identity: string;
    reducer: string;
    status: "committed" | "failed";
    error: string | null;
    configRows?: { key: string; value: string }[];
}

/**
 * Runs the TypeScript SDK client (test/e2e/clients/sdkClient.ts) in its own Node process: a
 * private CA can only be trusted through NODE_EXTRA_CA_CERTS, which Node reads at start.
 */
export function runSdkClient(o: { uri: string; db: string; token: string; call: string; args: unknown[]; read?: string; caCert?: string; schemaUri?: string }): Promise<SdkResult> {
    const argv = [
        path.join(ROOT, "node_modules", ".bin", "tsx"),
        path.join(ROOT, "test", "e2e", "clients", "sdkClient.ts"),
        "--uri",
        o.uri,
        "--db",
        o.db,
        "--token",
        o.token,
        "--call",
        o.call,
        "--args",
        JSON.stringify(o.args),
    ];
    if (o.read) argv.push("--read", o.read);
    if (o.schemaUri) argv.push("--schema-uri", o.schemaUri);
    return new Promise((resolve, reject) => {
        execFile(process.execPath, argv, { env: { ...process.env, ...(o.caCert ? { NODE_EXTRA_CA_CERTS: o.caCert } : {}) }, timeout: 60_000 }, (err, stdout, stderr) => {
            const last = stdout.trim().split("\n").pop() ?? "";
            try {
                const parsed = JSON.parse(last) as SdkResult & { error?: string };
                if (err && !parsed.status) return reject(new Error(`sdk client failed: ${parsed.error ?? err.message}\n${stderr}`));
                resolve(parsed);
            } catch {
                reject(new Error(`sdk client printed no result (${err?.message ?? "exit 0"}):\n${stdout}\n${stderr}`));
            }
        });
    });
}
