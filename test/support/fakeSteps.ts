import { SHELL_TYPE, type MockBehaviour } from "./harness";

export const WASM_SHA = "a".repeat(64);
export const DB_IDENTITY = "c".repeat(64);
export const DEPLOYER = "b".repeat(64);
/** Shaped like a SpacetimeDB JWT so tests can check it never leaks into public outputs. */
export const FAKE_TOKEN = `eyJhbGciOiJFUzI1NiJ9.${Buffer.from(JSON.stringify({ hex_identity: DEPLOYER })).toString("base64url")}.c2lnbmF0dXJlLXNpZw`;

/** What each shell step prints on success, keyed by the end of its resource name. */
export const stepStdout = ({ type, name }: { type: string; name: string }): Record<string, unknown> => {
    if (type !== SHELL_TYPE) return {};
    const out: Record<string, unknown> = {
        "module-wasm": { wasm: "/repo/.iu/artifacts/x.wasm", sha256: WASM_SHA, bytes: 1234 },
        "server-process": { pid: 4242, url: "http://127.0.0.1:3000", started: true },
        "tls-process": { pid: 4343, caCert: "/x/root.crt", started: true },
        "-state": { dir: "/x" },
        "deployer-mint": { identity: DEPLOYER, token: FAKE_TOKEN },
        "publish-wasm": { databaseIdentity: DB_IDENTITY, op: "created", sha256: WASM_SHA },
        "publish-settings": { synced: ["feature_flags", "server_config"] },
        "ready-probe": { ready: true, configRows: 1, initEvents: 1 },
    };
    const key = Object.keys(out).find((k) => name.endsWith(k));
    return key ? { stdout: JSON.stringify(out[key]), stderr: "" } : { stdout: "{}", stderr: "" };
};

/** Mock behaviour for stacks without cloud resources: shell steps print their results. */
export const localSteps: MockBehaviour = { state: (type, name) => ({ state: stepStdout({ type, name }) }) };
