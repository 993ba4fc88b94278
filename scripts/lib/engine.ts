import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";

/** The repository root: Pulumi.yaml, package.json (whose `main` is the program), module/, scripts/. */
export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
export const PROJECT_NAME = "inner-universe";

export interface OpenStackOptions {
    stack: string;
    /** Default file://<repo>/.iu/state (or PULUMI_BACKEND_URL). */
    backendUrl?: string;
    /** The project directory (Pulumi.yaml and the program); default: this repository. */
    workDir?: string;
    /** inner-universe:* values written to the stack before the update (objects allowed). */
    config?: Record<string, unknown>;
    secretConfig?: Record<string, string>;
    env?: Record<string, string>;
}

/** Tool locations written by scripts/setup-tools.sh. */
function toolsFile(): Record<string, string> {
    const file = process.env.IU_TOOLS_ENV ?? path.join(cacheRoot(), "tools.json");
    if (!fs.existsSync(file)) {
        throw new Error(`no tool manifest at ${file}: run \`bash scripts/setup-tools.sh\` first (it builds the Pulumi CLI and the SpacetimeDB server)`);
    }
    return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, string>;
}

export function cacheRoot(): string {
    return process.env.IU_CACHE ?? path.join(process.env.HOME ?? "/root", ".cache", "inner-universe");
}

/**
 * Environment for the CLI and every step it runs: the pinned tools first on PATH (the CLI's
 * directory also holds the language host and the dynamic-provider plugin), no plugin downloads,
 * no update checks, and the same secrets settings scripts/lib/pulumi-env.sh gives the shell entry
 * points.
 */
export function toolEnv(extra: Record<string, string> = {}): Record<string, string> {
    const tools = toolsFile();
    const bins = (tools.PATH_PREFIX ?? "").split(":").filter(Boolean);
    return {
        PATH: [...bins, path.join(PROJECT_ROOT, "node_modules", ".bin"), process.env.PATH ?? ""].join(":"),
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
        // A stack file without a salt (a fresh checkout) reuses the salt the state already holds.
        PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER: "true",
        // As scripts/lib/pulumi-env.sh: the providers' type-stripped .ts files would warn in every preview.
        NODE_OPTIONS: [process.env.NODE_OPTIONS, "--disable-warning=MODULE_TYPELESS_PACKAGE_JSON"].filter(Boolean).join(" "),
        // As scripts/lib/pulumi-env.sh: the CLI's four Node processes reuse compiled code across runs.
        NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? path.join(cacheRoot(), "node-compile-cache"),
        ...passphraseEnv(),
        ...extra,
    };
}

/** A local file backend needs a passphrase; keep one per checkout unless the user set their own. */
function passphraseEnv(): Record<string, string> {
    if (process.env.PULUMI_CONFIG_PASSPHRASE !== undefined || process.env.PULUMI_CONFIG_PASSPHRASE_FILE) return {};
    const file = path.join(PROJECT_ROOT, ".iu", "passphrase");
    if (!fs.existsSync(file)) {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, randomBytes(24).toString("hex"), { mode: 0o600 });
    }
    return { PULUMI_CONFIG_PASSPHRASE_FILE: file };
}

export function defaultBackendUrl(): string {
    if (process.env.PULUMI_BACKEND_URL) return process.env.PULUMI_BACKEND_URL;
    const dir = path.join(PROJECT_ROOT, ".iu", "state");
    fs.mkdirSync(dir, { recursive: true });
    return `file://${dir}`;
}

export async function pulumiCommand(): Promise<PulumiCommand> {
    const tools = toolsFile();
    if (!tools.PULUMI_ROOT) throw new Error("tool manifest lacks PULUMI_ROOT: rerun scripts/setup-tools.sh");
    return PulumiCommand.get({ root: tools.PULUMI_ROOT, skipVersionCheck: true });
}

/**
 * Opens (or creates) a stack of the project in `workDir` through the Automation API. The program
 * is the project's own (package.json `main`, run by the CLI's Node language host), exactly what
 * `pulumi up` runs; only the ephemeral runner and the benchmark drive the CLI this way.
 */
export async function openStack(opts: OpenStackOptions): Promise<Stack> {
    const workDir = opts.workDir ?? PROJECT_ROOT;
    const envVars = toolEnv({ PULUMI_BACKEND_URL: opts.backendUrl ?? defaultBackendUrl(), ...(opts.env ?? {}) });
    const stack = await LocalWorkspace.createOrSelectStack({ stackName: opts.stack, workDir }, { workDir, envVars, pulumiCommand: await pulumiCommand() });
    const values: Record<string, { value: string; secret?: boolean }> = {};
    for (const [k, v] of Object.entries(opts.config ?? {})) values[`${PROJECT_NAME}:${k}`] = { value: typeof v === "string" ? v : JSON.stringify(v) };
    for (const [k, v] of Object.entries(opts.secretConfig ?? {})) values[`${PROJECT_NAME}:${k}`] = { value: v, secret: true };
    if (Object.keys(values).length > 0) await stack.setAllConfig(values);
    return stack;
}
