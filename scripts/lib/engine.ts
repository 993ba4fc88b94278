import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";

/** The repository root: Pulumi.yaml, module/, scripts/. */
export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
export const PROJECT_NAME = "inner-universe";

export interface OpenStackOptions {
    stack: string;
    /** Default file://<repo>/.iu/state (or PULUMI_BACKEND_URL). */
    backendUrl?: string;
    /** Directory holding Pulumi.yaml and the stack's Pulumi.<stack>.yaml (default: the repo). */
    workDir?: string;
    /** inner-universe:* values written to the stack before the update (objects allowed). */
    config?: Record<string, unknown>;
    secretConfig?: Record<string, string>;
    env?: Record<string, string>;
    /** Another inline program (the benchmark's empty-stack floor); default: infra/run.ts. */
    program?: () => Promise<Record<string, unknown>>;
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
 * Environment for the engine and every step it runs: the pinned tools first on PATH (the CLI's
 * directory also holds the dynamic-provider plugin), no plugin downloads, no update checks.
 */
export function toolEnv(extra: Record<string, string> = {}): Record<string, string> {
    const tools = toolsFile();
    const bins = (tools.PATH_PREFIX ?? "").split(":").filter(Boolean);
    const env: Record<string, string> = {
        PATH: [...bins, path.join(PROJECT_ROOT, "node_modules", ".bin"), process.env.PATH ?? ""].join(":"),
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
        ...passphraseEnv(),
        ...extra,
    };
    return env;
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

async function pulumiCommand(): Promise<PulumiCommand> {
    const tools = toolsFile();
    if (!tools.PULUMI_ROOT) throw new Error("tool manifest lacks PULUMI_ROOT: rerun scripts/setup-tools.sh");
    return PulumiCommand.get({ root: tools.PULUMI_ROOT, skipVersionCheck: true });
}

/**
 * The engine's view of the project: Pulumi.yaml without `main` (the program runs inline) and each
 * stack's Pulumi.<stack>.yaml as committed, plus the per-machine secrets-provider lines Pulumi
 * writes into it (a passphrase salt must not land in the repo: another checkout has another
 * passphrase). Kept in .iu/project, rewritten from the repo's files on every run.
 */
export function mirrorProject(stack: string, dir = path.join(PROJECT_ROOT, ".iu", "project")): string {
    writeProjectFile(dir);
    const committed = path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`);
    const mirrored = path.join(dir, `Pulumi.${stack}.yaml`);
    const machineLines = fs.existsSync(mirrored)
        ? fs.readFileSync(mirrored, "utf8").split("\n").filter((l) => /^(encryptionsalt|secretsprovider|encryptedkey):/.test(l))
        : [];
    const base = fs.existsSync(committed) ? fs.readFileSync(committed, "utf8") : "config: {}\n";
    const keep = machineLines.filter((l) => !base.includes(`${l.split(":")[0]}:`));
    fs.writeFileSync(mirrored, `${base.trimEnd()}\n${keep.map((l) => `${l}\n`).join("")}`);
    return dir;
}

/** Pulumi.yaml for an inline program (the CLI checks that `main` exists), and the node_modules the dynamic-provider plugin resolves from the work dir. */
export function writeProjectFile(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
    const project = fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8").replace(/^main:.*\n/m, "");
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), project);
    const modules = path.join(dir, "node_modules");
    if (!fs.existsSync(modules)) fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), modules);
}

/**
 * Opens (or creates) a stack whose program runs inline in this process: the Node language host
 * cannot be built offline, and the Automation API's inline mode does not need it.
 */
export async function openStack(opts: OpenStackOptions): Promise<Stack> {
    const workDir = opts.workDir ?? mirrorProject(opts.stack);
    const envVars = toolEnv({ PULUMI_BACKEND_URL: opts.backendUrl ?? defaultBackendUrl(), ...(opts.env ?? {}) });
    const stack = await LocalWorkspace.createOrSelectStack(
        {
            stackName: opts.stack,
            projectName: PROJECT_NAME,
            program:
                opts.program ??
                (async () => {
                    const { runProgram } = await import("../../infra/run");
                    return runProgram(PROJECT_ROOT);
                }),
        },
        { workDir, envVars, pulumiCommand: await pulumiCommand() },
    );
    const values: Record<string, { value: string; secret?: boolean }> = {};
    for (const [k, v] of Object.entries(opts.config ?? {})) values[`${PROJECT_NAME}:${k}`] = { value: typeof v === "string" ? v : JSON.stringify(v) };
    for (const [k, v] of Object.entries(opts.secretConfig ?? {})) values[`${PROJECT_NAME}:${k}`] = { value: v, secret: true };
    if (Object.keys(values).length > 0) await stack.setAllConfig(values);
    return stack;
}

/** Removes the stack from the backend (and its Pulumi.<stack>.yaml); destroy first. */
export async function removeStack(opts: OpenStackOptions): Promise<void> {
    const stack = await openStack({ ...opts, config: {} });
    await stack.workspace.removeStack(opts.stack);
}
