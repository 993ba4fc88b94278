/**
 * What an ephemeral stack is configured with, and the guards that keep the runner away from data
 * that matters. Pure: the runner and the tests call these with plain values.
 */

export class ProtectedStackError extends Error {
    constructor(stack: string, reason: string) {
        super(`refusing to touch stack ${stack}: ${reason}`);
        this.name = "ProtectedStackError";
    }
}

export interface EphemeralPorts {
    spacetimedb: number;
    tls: number;
}

/**
 * The base stack's values (Pulumi.dev.yaml by default) with everything that could reach a
 * long-lived environment's data replaced: fresh ports, a private state dir, no explicit root dir,
 * data unprotected and deleted on destroy. The cargo target dir stays shared (module.target_dir):
 * it holds only build output, and a cold std build per run would cost minutes.
 */
export function ephemeralConfig(base: Record<string, unknown>, ports: EphemeralPorts, stateDir: string): Record<string, unknown> {
    const runtime = decode(base.runtime) ?? "local";
    if (runtime !== "local") {
        throw new Error(`ephemeral stacks run the local runtime; the base stack is runtime ${JSON.stringify(runtime)}`);
    }
    if (ports.spacetimedb === ports.tls) throw new Error(`ephemeral ports must differ (both ${ports.spacetimedb})`);
    const section = (key: string) => {
        const v = decode(base[key]);
        return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
    };
    const { root_dir: _rootDir, ...spacetimedb } = section("spacetimedb");
    const { state_dir: _stateDir, ...local } = section("local");
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(base)) {
        // environment: the stack name (the default) tells Atlas which throwaway stack it reads.
        if (["environment", "aws", "container", "deployer_token"].includes(key)) continue;
        out[key] = decode(value);
    }
    return {
        ...out,
        runtime: "local",
        spacetimedb: { ...spacetimedb, port: ports.spacetimedb },
        tls: { ...section("tls"), port: ports.tls },
        local: { ...local, state_dir: stateDir },
        protect: { data: false, delete_data_on_destroy: true },
    };
}

/** Throws unless the stack's config provably leaves its data unprotected. */
export function assertDataUnprotected(stack: string, values: Record<string, unknown>): void {
    if (!("protect" in values)) return;
    const protect = decode(values.protect);
    if (!protect || typeof protect !== "object" || Array.isArray(protect)) {
        throw new ProtectedStackError(stack, `its protect config is unreadable (${JSON.stringify(values.protect)}), so it may protect data`);
    }
    const data = (protect as Record<string, unknown>).data;
    if (data === true || data === "true") throw new ProtectedStackError(stack, "its config sets protect.data: true");
    if (data !== undefined && data !== false && data !== "false") {
        throw new ProtectedStackError(stack, `protect.data is ${JSON.stringify(data)}, not false`);
    }
}

interface StateResource {
    urn: string;
    protect?: boolean;
}

/** URNs the engine itself would refuse to delete; their presence means someone meant to keep them. */
export function protectedResources(deployment: { resources?: StateResource[] } | undefined): string[] {
    return (deployment?.resources ?? []).filter((r) => r.protect === true).map((r) => r.urn);
}

/** Pulumi stores structured config as JSON text; the stack file may hold it as objects. */
function decode(value: unknown): unknown {
    if (typeof value !== "string") return value;
    const t = value.trim();
    if (t.startsWith("{") || t.startsWith("[")) {
        try {
            return JSON.parse(t);
        } catch {
            return value;
        }
    }
    return value;
}

/** `inner-universe:key` → `key` (other namespaces dropped), values unwrapped from the Automation API's ConfigMap. */
export function namespacedValues(all: Record<string, { value: string; secret?: boolean }>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(all)) {
        if (key.startsWith("inner-universe:")) out[key.slice("inner-universe:".length)] = v.value;
    }
    return out;
}
