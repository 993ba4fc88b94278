/**
 * The stack's lifecycle as plain Pulumi CLI commands, in the environment ops/env.ts defines:
 * `bash scripts/dev.sh [action]` is `npm run ops -- stack <action> --stack dev`, and the delivery
 * workflows' `bash scripts/ci/stack.sh <action> STACK` is `npm run ops -- ci <action> --stack STACK`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type Command, EXIT } from "../cli";
import { keepStackFileClean, PROJECT_ROOT, pulumiEnv } from "../env";
import { run, runAttached } from "../pulumi";
import { clearStaleLocks, reapOrphans } from "./locks";

const PACK = ["--policy-pack", path.join(PROJECT_ROOT, "policy", "pack")];

/** `pulumi ARGS`, another command (quiet: its stdout is not the answer), or a line for the reader. */
export type Step = string[] | { cmd: string; args: string[]; quiet?: boolean } | { say: string };

/** Runs `pulumi ARGS` attached to this terminal in the checkout's environment, keeping Pulumi.<stack>.yaml free of machine salt. */
async function pulumi(stack: string, args: Step[], opts: { select?: boolean } = {}): Promise<number> {
    const env = pulumiEnv(PROJECT_ROOT);
    const clean = keepStackFileClean(PROJECT_ROOT, stack);
    try {
        const cleared = clearStaleLocks(env.PULUMI_BACKEND_URL!, stack);
        for (const line of [...cleared, ...(cleared.length ? reapOrphans(PROJECT_ROOT) : [])]) process.stderr.write(`${line}\n`);
        if (opts.select !== false) {
            const sel = await run("pulumi", ["stack", "select", "--create", stack], { cwd: PROJECT_ROOT, env });
            if (sel.code !== 0) throw new Error(`pulumi stack select --create ${stack}: ${sel.stderr.trim()}`);
        }
        for (const a of args) {
            if ("say" in a) {
                process.stdout.write(`${a.say}\n`);
                continue;
            }
            const [cmd, argv] = Array.isArray(a) ? ["pulumi", a] : [a.cmd, a.args];
            const code = Array.isArray(a) || !a.quiet ? await runAttached(cmd, argv, { cwd: PROJECT_ROOT, env }) : await quietly(cmd, argv, env);
            if (code !== 0) return code;
        }
        return EXIT.ok;
    } finally {
        clean();
    }
}

/** A check whose answer is not ours to print: its stderr only when it fails. */
async function quietly(cmd: string, args: string[], env: Record<string, string>): Promise<number> {
    const r = await run(cmd, args, { cwd: PROJECT_ROOT, env });
    if (r.code !== 0) process.stderr.write(r.stderr);
    return r.code;
}

interface Action {
    verb: string;
    summary: string;
    args: (stack: string, rest: string[]) => Step[];
    example: string;
    select?: boolean;
}

const ACTIONS: Action[] = [
    {
        verb: "up",
        summary: "pulumi up --yes with the policy pack, then the atlas outputs (what `bash scripts/dev.sh` runs)",
        args: (s, rest) => [["up", "-s", s, "--yes", ...PACK, ...rest], { say: "\natlas outputs:" }, ["stack", "output", "-s", s, "atlas", "--json"]],
        example: "npm run ops -- stack up --stack dev",
    },
    {
        verb: "preview",
        summary: "pulumi preview --diff with the policy pack: what an up would change",
        args: (s, rest) => [["preview", "-s", s, "--diff", ...PACK, ...rest]],
        example: "npm run ops -- stack preview --stack dev -- --refresh",
    },
    { verb: "refresh", summary: "pulumi refresh --yes", args: (s, rest) => [["refresh", "-s", s, "--yes", ...rest]], example: "npm run ops -- stack refresh --stack dev" },
    {
        verb: "destroy",
        summary: "pulumi destroy --yes: stop everything (SIGINT); data dirs stay unless protect.delete_data_on_destroy",
        args: (s, rest) => [["destroy", "-s", s, "--yes", ...rest]],
        example: "npm run ops -- stack destroy --stack dev",
    },
    {
        verb: "rm",
        summary: "pulumi destroy, then stack rm (Pulumi.<stack>.yaml stays: it is the project's)",
        args: (s, rest) => [
            ["destroy", "-s", s, "--yes", ...rest],
            ["stack", "rm", "-s", s, "--yes", "--preserve-config"],
        ],
        example: "npm run ops -- stack rm --stack dev",
    },
    {
        verb: "outputs",
        summary: "pulumi stack output --json (public outputs; -- --show-secrets for the deployer token)",
        args: (s, rest) => [["stack", "output", "-s", s, "--json", ...rest]],
        example: "npm run ops -- stack outputs --stack dev -- --show-secrets",
        select: false,
    },
];

export const stackCommands: Command[] = ACTIONS.map((a) => ({
    path: ["stack", a.verb],
    summary: a.summary,
    examples: [a.example],
    stack: "dev",
    passThrough: "pulumi flags",
    run: (ctx) => pulumi(ctx.stack, a.args(ctx.stack, ctx.rest), { select: a.select ?? true }),
}));

/** Every CI run of the CLI: non-interactive, outputs kept out of the job log, the policy pack on every preview and up. */
const ci = (stack: string) => ["-s", stack, "--non-interactive", "--suppress-outputs"];
const tsx = (file: string, ...args: string[]) => ({ cmd: process.execPath, args: ["--import", "tsx", path.join(PROJECT_ROOT, file), ...args] });

/** What each delivery-workflow action runs, in order (pure: the workflow tests read it). */
export function ciPlan(action: "preview" | "deploy" | "drift", stack: string): Step[] {
    switch (action) {
        case "preview":
            return [["preview", ...ci(stack), "--diff", ...PACK]];
        case "deploy":
            // The preflight and the reader are commands of their own; they run as the workflow would run them.
            return [
                tsx("ops/main.ts", "preflight", "--stack", stack),
                ["up", ...ci(stack), "--yes", "--diff", ...PACK],
                { ...tsx("readers/ts/cli.ts", "--stack", stack), quiet: true },
            ];
        case "drift":
            return [["preview", ...ci(stack), "--refresh", "--expect-no-changes", "--diff", ...PACK]];
    }
}

/** The PR comment a preview leaves (IU_COMMENT_FILE): the diff, colours removed, folded. */
export function previewComment(stack: string, code: number, output: string): string {
    const verdict = code === 0 ? "passed" : `failed (exit ${code})`;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the CLI's colour codes
    const text = output.replace(/\x1b\[[0-9;]*m/g, "");
    return `### \`pulumi preview\` of \`${stack}\`: ${verdict}\n\n<details><summary>diff</summary>\n\n\`\`\`diff\n${text}${text.endsWith("\n") ? "" : "\n"}\`\`\`\n\n</details>\n`;
}

async function ciPreview(stack: string): Promise<number> {
    const env = pulumiEnv(PROJECT_ROOT);
    const clean = keepStackFileClean(PROJECT_ROOT, stack);
    try {
        const [args] = ciPlan("preview", stack) as [string[]];
        const r = await run("pulumi", args, { cwd: PROJECT_ROOT, env, echo: (s) => process.stdout.write(s) });
        const file = process.env.IU_COMMENT_FILE;
        if (file) fs.writeFileSync(file, previewComment(stack, r.code, r.stdout + r.stderr));
        return r.code;
    } finally {
        clean();
    }
}

export const ciCommands: Command[] = [
    {
        path: ["ci", "preview"],
        summary: "the PR preview: pulumi preview --diff --non-interactive with the policy pack; IU_COMMENT_FILE gets the PR comment",
        examples: ["IU_COMMENT_FILE=comment.md npm run ops -- ci preview --stack prod"],
        stack: "required",
        run: (ctx) => ciPreview(ctx.stack),
    },
    {
        path: ["ci", "deploy"],
        summary: "deploy on merge: preflight, pulumi up with the policy pack, then the Atlas reader checks the outputs",
        examples: ["npm run ops -- ci deploy --stack dev"],
        stack: "required",
        run: (ctx) => pulumi(ctx.stack, ciPlan("deploy", ctx.stack), { select: false }),
    },
    {
        path: ["ci", "drift"],
        summary: "the drift check: pulumi preview --refresh --expect-no-changes with the policy pack",
        examples: ["npm run ops -- ci drift --stack prod"],
        stack: "required",
        run: (ctx) => pulumi(ctx.stack, ciPlan("drift", ctx.stack), { select: false }),
    },
];
