import * as path from "node:path";
import { HOST_ROOT_DIR } from "../facts";
import { stackLayout } from "../lib/localLayout";
import { CONFIG_NAMESPACE, ConfigError, formatIssues } from "./errors";
import { type ParsedStackConfig, stackConfig, stackConfigSchema } from "./schema";

/** Keys read as Pulumi secrets, never through the schema (their values must not reach plain state). */
export const SECRET_KEYS = ["deployer_token"] as const;

export interface StackContext {
    stack: string;
    /** Directory holding Pulumi.yaml; relative paths in config resolve against it. */
    projectRoot: string;
}

/** The typed, fully resolved configuration every component receives. */
export type StackConfig = ParsedStackConfig & {
    stack: string;
    environment: string;
    projectRoot: string;
    /**
     * Local state directory (all stacks): artifacts and per-stack dirs live beneath. Like every
     * path below, relative to the project root unless the config gave an absolute one: paths reach
     * the stack's state as written, so any checkout (any runner) sees the same state.
     */
    stateDir: string;
    /** Per-stack directory for local runtimes (server root, proxy files). */
    stackDir: string;
    spacetimedb: ParsedStackConfig["spacetimedb"] & { root_dir: string };
};

/** The config of one runtime: what `if (cfg.runtime === R)` narrows a StackConfig to. */
export type StackConfigFor<R extends StackConfig["runtime"]> = Extract<StackConfig, { runtime: R }>;

/** Narrows a config to `runtime`, or throws naming the key (for tools that serve one runtime). */
export function forRuntime<R extends StackConfig["runtime"]>(cfg: StackConfig, runtime: R): StackConfigFor<R> {
    if (cfg.runtime !== runtime) throw new ConfigError([`inner-universe:runtime: this needs runtime ${runtime}; stack ${cfg.stack} has ${cfg.runtime}`]);
    return cfg as StackConfigFor<R>;
}

/**
 * Parses raw `inner-universe:*` values (as `pulumi config` stores them: scalars or JSON text)
 * into a StackConfig, or throws a ConfigError listing every problem. Pure: tests call it directly.
 */
export function parseStackConfig(raw: Record<string, unknown>, ctx: StackContext): StackConfig {
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
        if ((SECRET_KEYS as readonly string[]).includes(key)) continue;
        values[key] = decode(value);
    }
    const result = stackConfig.safeParse(values, { reportInput: true });
    if (!result.success) throw new ConfigError(formatIssues(result.error.issues, stackConfigSchema));
    return resolve(result.data, ctx);
}

/** Pulumi hands structured values over as JSON text; plain strings stay strings. */
function decode(value: unknown): unknown {
    if (typeof value !== "string") return value;
    const t = value.trim();
    if (t.startsWith("{") || t.startsWith("[") || t === "true" || t === "false" || /^-?\d+(\.\d+)?$/.test(t)) {
        try {
            return JSON.parse(t);
        } catch {
            return value;
        }
    }
    return value;
}

export function resolve(cfg: ParsedStackConfig, ctx: StackContext): StackConfig {
    // Project-relative stays relative: the engine runs every step from the project root.
    const rel = (p: string) => path.normalize(p);
    const stateDir = rel(cfg.local.state_dir);
    const stackDir = path.join(stateDir, ctx.stack);
    const defaultRoot = cfg.runtime === "aws" || cfg.runtime === "docker" ? HOST_ROOT_DIR : stackLayout(stackDir).rootDir;
    return {
        ...cfg,
        stack: ctx.stack,
        environment: cfg.environment ?? ctx.stack,
        projectRoot: ctx.projectRoot,
        stateDir,
        stackDir,
        module: { ...cfg.module, dir: rel(cfg.module.dir), target_dir: rel(cfg.module.target_dir) },
        spacetimedb: {
            ...cfg.spacetimedb,
            root_dir: cfg.spacetimedb.root_dir ? (cfg.runtime === "local" ? rel(cfg.spacetimedb.root_dir) : cfg.spacetimedb.root_dir) : defaultRoot,
        },
    };
}

/** Strips the `inner-universe:` namespace from Pulumi's flat config map; other namespaces are ignored. */
export function namespaced(all: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    const prefix = `${CONFIG_NAMESPACE}:`;
    for (const [key, value] of Object.entries(all)) {
        if (key.startsWith(prefix)) out[key.slice(prefix.length)] = value;
    }
    return out;
}
