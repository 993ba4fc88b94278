import type { BuildRequest, ModuleBuilder } from "../../infra/components/moduleBuild";
import { DATABASE_TYPE, IDENTITY_TYPE, type MockBehaviour, READINESS_TYPE, SETTINGS_TYPE, SHELL_TYPE } from "./harness";

export const WASM_SHA = "a".repeat(64);
export const DB_IDENTITY = "c".repeat(64);
export const DEPLOYER = "b".repeat(64);
/** Shaped like a SpacetimeDB JWT so tests can check it never leaks into public outputs. */
export const FAKE_TOKEN = `eyJhbGciOiJFUzI1NiJ9.${Buffer.from(JSON.stringify({ hex_identity: DEPLOYER })).toString("base64url")}.c2lnbmF0dXJlLXNpZw`;

export const PUBLISH_REVISION = `${WASM_SHA}@2026-01-01T00:00:00.000Z`;

/** What the SpacetimeDB steps output on success, keyed by resource type. */
const spacetimeOutputs: Record<string, Record<string, unknown>> = {
    [IDENTITY_TYPE]: { identity: DEPLOYER, token: FAKE_TOKEN, tokenAccepted: true },
    [DATABASE_TYPE]: { databaseIdentity: DB_IDENTITY, ownerIdentity: DEPLOYER, op: "created", sha256: WASM_SHA, cleared: false, revision: PUBLISH_REVISION },
    [SETTINGS_TYPE]: { keys: ["feature_flags", "server_config"], revision: `${PUBLISH_REVISION}+settings@2026-01-01T00:00:01.000Z` },
    [READINESS_TYPE]: { report: JSON.stringify({ ready: true, configRows: 1, initEvents: 1 }) },
};

/**
 * The outputs of each local step on success: a shell step's stdout (keyed by the end of its
 * resource name), a SpacetimeDB step's typed outputs (keyed by its type).
 */
export const stepStdout = ({ type, name }: { type: string; name: string }): Record<string, unknown> => {
    if (spacetimeOutputs[type]) return spacetimeOutputs[type]!;
    if (type !== SHELL_TYPE) return {};
    const out: Record<string, unknown> = {
        "server-process": { pid: 4242, url: "http://127.0.0.1:3000", started: true },
        "tls-process": { pid: 4343, caCert: "/x/root.crt", started: true },
        "-state": { dir: "/x" },
    };
    const key = Object.keys(out).find((k) => name.endsWith(k));
    return key ? { stdout: JSON.stringify(out[key]), stderr: "" } : { stdout: "{}", stderr: "" };
};

/** Mock behaviour for stacks without cloud resources: every local step succeeds. */
export const localSteps: MockBehaviour = { state: (type, name) => ({ state: stepStdout({ type, name }) }) };

/** Every module build the program asked for, in order (see `fakeModuleBuilder`). */
export const buildRequests: BuildRequest[] = [];

/** Stand-in for the cargo build (infra/components/moduleBuild.ts `buildWithCargo`): records the request, returns WASM_SHA. */
export const fakeModuleBuilder: ModuleBuilder = (req) => {
    buildRequests.push(req);
    return { wasm: req.artifact, sha256: WASM_SHA };
};
