import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { backendUrl, PROJECT_NAME, PROJECT_ROOT, toolEnv, toolsFile } from "./env";

// Kept apart from env.ts: the Automation API module costs every command that only needs the environment.

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

export async function pulumiCommand(): Promise<PulumiCommand> {
    const tools = toolsFile();
    if (!tools.PULUMI_ROOT) throw new Error("tool manifest lacks PULUMI_ROOT: rerun toolchain/setup-tools.sh");
    return PulumiCommand.get({ root: tools.PULUMI_ROOT, skipVersionCheck: true });
}

/**
 * Opens (or creates) a stack of the project in `workDir` through the Automation API. The program
 * is the project's own (package.json `main`, run by the CLI's Node language host), exactly what
 * `pulumi up` runs; only the ephemeral runner and its tests drive the CLI this way.
 */
export async function openStack(opts: OpenStackOptions): Promise<Stack> {
    const workDir = opts.workDir ?? PROJECT_ROOT;
    const envVars = toolEnv({ PULUMI_BACKEND_URL: opts.backendUrl ?? backendUrl(), ...(opts.env ?? {}) });
    const stack = await LocalWorkspace.createOrSelectStack({ stackName: opts.stack, workDir }, { workDir, envVars, pulumiCommand: await pulumiCommand() });
    const values: Record<string, { value: string; secret?: boolean }> = {};
    for (const [k, v] of Object.entries(opts.config ?? {})) values[`${PROJECT_NAME}:${k}`] = { value: typeof v === "string" ? v : JSON.stringify(v) };
    for (const [k, v] of Object.entries(opts.secretConfig ?? {})) values[`${PROJECT_NAME}:${k}`] = { value: v, secret: true };
    if (Object.keys(values).length > 0) await stack.setAllConfig(values);
    return stack;
}
