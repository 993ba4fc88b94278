/**
 * What every operator command is: a noun-verb path, its flags, an example, and a `run` that gets
 * parsed values. ops/main.ts is the one parser; a command never reads process.argv.
 */

/** Exit codes, the same in every command (as kubectl and the AWS CDK CLI keep theirs). */
export const EXIT = {
    /** Everything asked for was done, or everything checked is healthy. */
    ok: 0,
    /** The command ran and found problems, or failed doing what it was asked. */
    problems: 1,
    /** The command line itself was wrong: nothing was done. */
    usage: 2,
} as const;

export interface FlagSpec {
    type: "string" | "boolean";
    help: string;
    /** Shown in --help as `--name VALUE`. */
    value?: string;
    default?: string | boolean;
}

export type Flags = Record<string, string | boolean | undefined>;

export interface Context {
    /** The stack the command acts on (`--stack`, else IU_STACK, else dev when the command allows it). */
    stack: string;
    /** `--json`: machine output on stdout, progress still on stderr. */
    json: boolean;
    flags: Flags;
    /** Arguments after `--` (handed to the Pulumi CLI by the commands that take them). */
    rest: string[];
    /** A progress line on stderr (stdout stays the command's answer). */
    progress(line: string): void;
    /** The command's answer: JSON under --json, else `text` (or the value itself when it is a string). */
    print(value: unknown, text?: string): void;
}

export interface Command {
    /** Noun and verb, e.g. ["backup", "create"]; a single word for a command with no verbs. */
    path: string[];
    summary: string;
    /** Shown under the usage line in --help. */
    details?: string;
    /** At least one, as a user types it. */
    examples: string[];
    flags?: Record<string, FlagSpec>;
    /** "required": no default stack (the command touches data); "dev": defaults to dev; "none": takes no --stack. */
    stack: "required" | "dev" | "none";
    /** Whether --json changes the output. */
    json?: boolean;
    /** Whether arguments after `--` are accepted. */
    passThrough?: string;
    run(ctx: Context): Promise<number>;
}

/** A command line that cannot be run as written: exit 2 with the command's usage. */
export class UsageError extends Error {}

/** A required string flag, or a usage error naming it. */
export function required(flags: Flags, name: string, why: string): string {
    const v = flags[name];
    if (typeof v !== "string" || v === "") throw new UsageError(`--${name} is required: ${why}`);
    return v;
}

/**
 * A stack name as Pulumi takes it (letters, digits, `-`, `_`, `.`; at most 100), and never one that
 * could name a path outside its own files: the operator commands build `Pulumi.<stack>.yaml`,
 * `<state_dir>/<stack>` and `backups/<stack>` from it.
 */
export function stackName(name: string): string {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL and other control characters are what this refuses
    const shown = JSON.stringify(name).replace(/[\u0000-\u001f]/g, "?");
    if (!/^[A-Za-z0-9_.-]{1,100}$/.test(name) || /^\.|\.\./.test(name)) {
        throw new UsageError(`--stack ${shown}: a stack name is 1–100 letters, digits, '-', '_' or '.', not starting with '.' and without '..' (a plain name, e.g. dev)`);
    }
    return name;
}

/** A whole-number flag at least `min`, or a usage error naming it. */
export function wholeNumber(flags: Flags, name: string, min: number): number | undefined {
    const v = flags[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (typeof v !== "string" || !/^\d+$/.test(v) || n < min) throw new UsageError(`--${name}: expected a whole number ≥ ${min}, got ${JSON.stringify(v)}`);
    return n;
}

// Pulumi's progress dots leave the line open; our lines must start on their own.
let lineOpen = false;
export const progress = (line: string) => {
    process.stderr.write(`${lineOpen ? "\n" : ""}${line}\n`);
    lineOpen = false;
};
/** Echo of a child's output on stderr, keeping track of whether its last line is open. */
export const echo = (s: string) => {
    process.stderr.write(s);
    if (s.length) lineOpen = !s.endsWith("\n");
};
