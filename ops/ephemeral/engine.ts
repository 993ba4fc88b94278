import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { openStack, pulumiCommand } from "../automation";
import { PROJECT_ROOT, toolEnv } from "../env";
import { freePort } from "../ports";
import { type StackFileConfig, splitStackSettingsConfig } from "../preflight/checks";
import { namespacedValues } from "./config";
import { backendFiles, readPid, realProbes } from "./leaks";
import { randomPart } from "./naming";
import type { EphemeralDeps, OpenArgs, StackHandle } from "./run";

/** The ephemeral runner's dependencies bound to the real engine (ops/automation.ts) and machine. */
export function realDeps(): EphemeralDeps {
    return {
        projectRoot: PROJECT_ROOT,
        listStacks,
        async openStack(args: OpenArgs) {
            const stack = await openStack({
                stack: args.stack,
                backendUrl: args.backendUrl,
                workDir: args.workDir,
                // No .bak checkpoint copies for a stack that is meant to vanish.
                env: { PULUMI_DIY_BACKEND_DISABLE_CHECKPOINT_BACKUPS: "true" },
                ...(args.config ? { config: args.config } : {}),
            });
            return handleOf(stack);
        },
        freePort,
        makeTempRoot: (name) => fs.mkdtempSync(path.join(os.tmpdir(), `iu-${name}-`)),
        mkdir: (dir) => fs.mkdirSync(dir, { recursive: true }),
        removeDir: (dir) => fs.rmSync(dir, { recursive: true, force: true }),
        readPid,
        probes: (backendUrl, workDir) => realProbes(() => listStacks(backendUrl, workDir), backendUrl),
        purgeBackendFiles(backendUrl, stack) {
            for (const f of backendFiles(backendUrl, stack) ?? []) fs.rmSync(f, { recursive: true, force: true });
        },
        stopProcess,
        now: () => Date.now(),
        random: randomPart,
    };
}

export function handleOf(stack: Stack): StackHandle {
    return {
        name: stack.name,
        async up({ signal, onOutput }) {
            const res = await stack.up({ signal, onOutput });
            return { outputs: res.outputs };
        },
        async destroy({ onOutput }) {
            await stack.destroy({ onOutput });
        },
        async refresh({ onOutput }) {
            await stack.refresh({ onOutput });
        },
        async configValues() {
            return namespacedValues(await stack.getAllConfig());
        },
        async exportDeployment() {
            return (await stack.exportStack()).deployment;
        },
        async clearPendingOperations() {
            const state = await stack.exportStack();
            if (state.deployment) delete state.deployment.pending_operations;
            await stack.importStack(state);
        },
        async remove() {
            await stack.workspace.removeStack(stack.name);
        },
    };
}

/** Stacks of this project in a backend; workDir is the project directory (Pulumi.yaml). */
export async function listStacks(backendUrl: string, workDir: string): Promise<string[]> {
    const ws = await LocalWorkspace.create({ workDir, envVars: toolEnv({ PULUMI_BACKEND_URL: backendUrl }), pulumiCommand: await pulumiCommand() });
    return (await ws.listStacks()).map((s) => s.name.split("/").pop()!);
}

/**
 * A stack's Pulumi.<stack>.yaml read through the Automation API's own parser (no CLI call, no
 * backend, nothing decrypted): secure values are reported by key only.
 */
export async function readStackFile(workDir: string, stack: string): Promise<StackFileConfig | { missing: string }> {
    const file = path.join(workDir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) return { missing: `${file} does not exist` };
    const ws = await LocalWorkspace.create({ workDir, pulumiCommand: await pulumiCommand() });
    const settings = await ws.stackSettings(stack);
    return splitStackSettingsConfig(settings.config as Record<string, unknown> | undefined);
}

async function stopProcess(pid: number): Promise<void> {
    const alive = () => {
        try {
            process.kill(pid, 0);
            return true;
        } catch {
            return false;
        }
    };
    // SpacetimeDB shuts down gracefully only on SIGINT.
    try {
        process.kill(pid, "SIGINT");
    } catch {
        return;
    }
    for (let i = 0; i < 150 && alive(); i++) await new Promise((r) => setTimeout(r, 200));
    if (alive()) process.kill(pid, "SIGKILL");
}
