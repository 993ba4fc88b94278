/**
 * The operator CLI: one parser for every command that operates a stack.
 *   npm run ops -- <command> [<verb>] [--stack NAME] [--json] [flags] [-- pulumi args]
 *   npm run ops -- --help              every command
 *   npm run ops -- backup create --help
 * Exit codes mean the same in every command: 0 ok, 1 problems found (or the operation failed),
 * 2 the command line was wrong (nothing was done).
 */
import { parseArgs } from "node:util";
import { backupCommands } from "./backup/command";
import { benchCommand } from "./bench/command";
import { type Command, type Context, EXIT, type FlagSpec, progress, stackName, UsageError } from "./cli";
import { ciCommands, stackCommands } from "./deploy/command";
import { drillCommands } from "./drill/command";
import { envCommand } from "./envCommand";
import { ephemeralCommands } from "./ephemeral/command";
import { moduleCommand } from "./module/command";
import { preflightCommand } from "./preflight/command";
import { statusCommand } from "./status/command";

export const COMMANDS: Command[] = [
    ...stackCommands,
    statusCommand,
    ...backupCommands,
    ...drillCommands,
    preflightCommand,
    moduleCommand,
    ...ephemeralCommands,
    benchCommand,
    ...ciCommands,
    envCommand,
];

const GLOBAL: Record<string, FlagSpec> = {
    help: { type: "boolean", help: "show this help" },
};
const STACK: FlagSpec = { type: "string", value: "NAME", help: "the Pulumi stack (Pulumi.NAME.yaml)" };
const JSON_FLAG: FlagSpec = { type: "boolean", help: "print the answer as JSON on stdout" };

function flagsOf(c: Command): Record<string, FlagSpec> {
    return { ...(c.stack !== "none" ? { stack: STACK } : {}), ...(c.json ? { json: JSON_FLAG } : {}), ...(c.flags ?? {}), ...GLOBAL };
}

const name = (c: Command) => c.path.join(" ");

/** The command a line names: the longest path that matches its first words. */
export function findCommand(words: string[]): { command?: Command; used: number; family: Command[] } {
    const family = COMMANDS.filter((c) => c.path[0] === words[0]);
    const command = family.find((c) => c.path.length === 2 && c.path[1] === words[1]) ?? family.find((c) => c.path.length === 1);
    return { ...(command ? { command } : {}), used: command?.path.length ?? 0, family };
}

export function usageOf(c: Command): string {
    const flags = flagsOf(c);
    const width = Math.max(...Object.entries(flags).map(([k, f]) => `--${k}${f.value ? ` ${f.value}` : ""}`.length));
    const lines = [
        `usage: npm run ops -- ${name(c)}${c.stack === "required" ? " --stack NAME" : ""} [flags]${c.passThrough ? ` [-- ${c.passThrough}]` : ""}`,
        "",
        c.summary,
        ...(c.details ? ["", c.details] : []),
        "",
        "flags:",
        ...Object.entries(flags).map(([k, f]) => {
            const left = `--${k}${f.value ? ` ${f.value}` : ""}`;
            const def = f.default !== undefined && f.default !== false ? ` (default ${f.default})` : k === "stack" && c.stack === "dev" ? " (default dev, or IU_STACK)" : "";
            return `  ${left.padEnd(width)}  ${f.help}${def}`;
        }),
        "",
        "examples:",
        ...c.examples.map((e) => `  ${e}`),
    ];
    return lines.join("\n");
}

export function overview(): string {
    const width = Math.max(...COMMANDS.map((c) => name(c).length));
    return [
        "usage: npm run ops -- <command> [flags]      (npm run ops -- <command> --help for its flags)",
        "",
        "commands:",
        ...COMMANDS.map((c) => `  ${name(c).padEnd(width)}  ${c.summary}`),
        "",
        "exit codes: 0 ok, 1 problems found or the operation failed, 2 usage error (nothing was done)",
    ].join("\n");
}

/** Parses a command line into the command and its context; a UsageError when it cannot be run as written. */
export function parse(argv: string[]): { command: Command; ctx: Omit<Context, "progress" | "print">; help: boolean } | { help: true; text: string } {
    const dash = argv.indexOf("--");
    const own = dash < 0 ? argv : argv.slice(0, dash);
    const rest = dash < 0 ? [] : argv.slice(dash + 1);
    const words = own.filter((a, i) => !a.startsWith("-") && own.slice(0, i).every((b) => !b.startsWith("-")));
    if (words.length === 0) {
        if (own.includes("--help") || own.includes("-h") || own.length === 0) return { help: true, text: overview() };
        throw new UsageError(`no command given\n\n${overview()}`);
    }
    const { command, used, family } = findCommand(words);
    if (!command) {
        if (family.length) throw new UsageError(`${words[0]}: expected one of ${family.map((c) => c.path[1]).join(", ")}${words[1] ? `, got ${JSON.stringify(words[1])}` : ""}`);
        throw new UsageError(`unknown command ${JSON.stringify(words[0])}\n\n${overview()}`);
    }
    const specs = flagsOf(command);
    let parsed: ReturnType<typeof parseArgs>;
    try {
        parsed = parseArgs({
            args: own.slice(used),
            strict: true,
            allowPositionals: false,
            options: Object.fromEntries(Object.entries(specs).map(([k, f]) => [k, { type: f.type }])),
        });
    } catch (e) {
        throw new UsageError(`${name(command)}: ${(e as Error).message.split("\n")[0]}`, { cause: command });
    }
    const flags = parsed.values as Context["flags"];
    if (flags.help) return { help: true, text: usageOf(command) };
    if (rest.length && !command.passThrough) throw new UsageError(`${name(command)} takes no arguments after --`, { cause: command });
    for (const [k, f] of Object.entries(specs)) if (flags[k] === undefined && f.default !== undefined) flags[k] = f.default;
    let stack: string;
    try {
        stack = typeof flags.stack === "string" ? stackName(flags.stack) : command.stack === "dev" ? stackName(process.env.IU_STACK ?? "dev") : "";
    } catch (e) {
        throw new UsageError(`${name(command)}: ${(e as Error).message}`, { cause: command });
    }
    if (command.stack === "required" && !stack)
        throw new UsageError(`${name(command)}: --stack is required (the stack whose database it acts on, e.g. --stack dev)`, { cause: command });
    return { command, ctx: { stack, json: flags.json === true, flags, rest }, help: false };
}

export async function main(argv: string[]): Promise<number> {
    let parsed: ReturnType<typeof parse>;
    try {
        parsed = parse(argv);
    } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        const cmd = e.cause as Command | undefined;
        process.stderr.write(`${e.message}${cmd ? `\n\n${usageOf(cmd)}` : ""}\n`);
        return EXIT.usage;
    }
    if ("text" in parsed) {
        process.stdout.write(`${parsed.text}\n`);
        return EXIT.ok;
    }
    const { command, ctx } = parsed;
    const print = (value: unknown, text?: string) => {
        const out = ctx.json ? JSON.stringify(value, null, 2) : (text ?? (typeof value === "string" ? value : JSON.stringify(value, null, 2)));
        process.stdout.write(`${out}\n`);
    };
    try {
        return await command.run({ ...ctx, progress, print });
    } catch (e) {
        if (e instanceof UsageError) {
            process.stderr.write(`${name(command)}: ${e.message}\n\n${usageOf(command)}\n`);
            return EXIT.usage;
        }
        progress(`${name(command)}: ${e instanceof Error ? e.message : String(e)}`);
        return EXIT.problems;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e: unknown) => {
            process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
            process.exit(EXIT.problems);
        },
    );
}
