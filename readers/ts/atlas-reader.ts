import { execFileSync } from "node:child_process";
import type { z } from "zod";
import { ATLAS_SCHEMA_VERSION, type AtlasOutput, atlasOutputSchema } from "../../infra/contract/atlas";

/**
 * Reads the `atlas` stack output (from `pulumi stack output --json`, a file or stdin) and checks it
 * with the contract's own zod schema (infra/contract/atlas.ts), so Atlas never guesses at URLs or
 * versions and the TypeScript side cannot drift from the contract. The version this reader
 * understands is the contract's ATLAS_SCHEMA_VERSION (the committed JSON Schema, which the Python
 * reader uses, is generated from the same schema and carries the same `schemaVersion.const`).
 */

export const READER_SCHEMA_VERSION = ATLAS_SCHEMA_VERSION;

export type AtlasErrorKind = "input" | "version-missing" | "version-invalid" | "version-older" | "version-newer" | "invalid";

/** One contract violation: the JSON path of the offending value (e.g. `atlas.http.url`) and what is wrong. */
export interface AtlasProblem {
    path: string;
    message: string;
}

export class AtlasReadError extends Error {
    constructor(
        readonly kind: AtlasErrorKind,
        message: string,
        readonly problems: AtlasProblem[] = [],
    ) {
        super(message);
        this.name = "AtlasReadError";
    }
}

/** Parses stack-output JSON text and returns the validated atlas object. */
export function parseAtlas(text: string): AtlasOutput {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch (e) {
        throw new AtlasReadError("input", `stack output is not JSON (${(e as Error).message}); pass the output of \`pulumi stack output --json\``);
    }
    return checkAtlas(pickAtlas(parsed));
}

/**
 * `pulumi stack output --json` gives `{"atlas": {...}, ...}`; `pulumi stack output atlas --json`
 * gives the atlas object itself, recognisable by its `schemaVersion` key. Nothing else is accepted.
 */
export function pickAtlas(parsed: unknown): unknown {
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new AtlasReadError("input", `stack output must be a JSON object, got ${describe(parsed)}`);
    }
    const obj = parsed as Record<string, unknown>;
    if ("atlas" in obj) {
        if (obj.atlas === "[secret]") {
            throw new AtlasReadError("input", "the atlas output is marked secret; it must be a plain output (it holds no secrets by contract)");
        }
        return obj.atlas;
    }
    if ("schemaVersion" in obj) return obj;
    const keys = Object.keys(obj);
    throw new AtlasReadError("input", `no \`atlas\` output in the stack outputs (keys: ${keys.length ? keys.join(", ") : "none"}); deploy the stack with \`pulumi up\` first`);
}

/**
 * The version is checked first (its fix differs: redeploy vs upgrade the reader), then the whole
 * object with the contract's zod schema, reporting every problem, not just the first.
 */
export function checkAtlas(atlas: unknown, contract: z.ZodType<AtlasOutput> = atlasOutputSchema, version = READER_SCHEMA_VERSION): AtlasOutput {
    if (typeof atlas !== "object" || atlas === null || Array.isArray(atlas)) {
        throw new AtlasReadError("input", `the atlas output must be an object, got ${describe(atlas)}`);
    }
    checkVersion((atlas as Record<string, unknown>).schemaVersion, version);
    const result = contract.safeParse(atlas, { reportInput: true });
    if (!result.success) {
        const problems = result.error.issues.flatMap(problemsOf);
        throw new AtlasReadError(
            "invalid",
            `atlas output violates the contract (schemaVersion ${version}, infra/contract/atlas.ts):\n` +
                problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n") +
                "\nThe stack writes this output: redeploy it with the current program (`pulumi up`) rather than editing it by hand.",
            problems,
        );
    }
    return result.data;
}

/** A zod issue as problems with a JSON path and a message that says what to change. */
export function problemsOf(issue: z.core.$ZodIssue): AtlasProblem[] {
    const at = (keys: PropertyKey[]) => ["atlas", ...keys.map(String)].join(".");
    // A refinement's input is the whole object, not the value at its path: say nothing about it.
    const got = "input" in issue && issue.code !== "custom" ? `, got ${describe(issue.input)}` : "";
    switch (issue.code) {
        case "unrecognized_keys":
            return issue.keys.map((k) => ({ path: at([...issue.path, k]), message: "unexpected key (not in the contract): remove it" }));
        case "invalid_type":
            if ("input" in issue && issue.input === undefined) {
                return [{ path: at(issue.path), message: `required but missing: add it (expected ${issue.expected})` }];
            }
            return [{ path: at(issue.path), message: `expected ${issue.expected}${got}` }];
        default:
            return [{ path: at(issue.path), message: `${issue.message}${got}` }];
    }
}

/** A version mismatch gets its own message: the fix differs (redeploy vs upgrade the reader). */
export function checkVersion(found: unknown, expected: number): void {
    if (found === undefined) {
        throw new AtlasReadError(
            "version-missing",
            `atlas.schemaVersion is missing: the output predates the versioned contract or was edited by hand; redeploy the stack (\`pulumi up\`) so it emits schemaVersion ${expected}`,
        );
    }
    if (typeof found !== "number" || !Number.isInteger(found)) {
        throw new AtlasReadError("version-invalid", `atlas.schemaVersion must be an integer, got ${describe(found)}`);
    }
    if (found < expected) {
        throw new AtlasReadError(
            "version-older",
            `atlas schemaVersion ${found} is older than this reader supports (${expected}): redeploy the stack with the current program (\`pulumi up\`), or use a reader released for schemaVersion ${found}`,
        );
    }
    if (found > expected) {
        throw new AtlasReadError(
            "version-newer",
            `atlas schemaVersion ${found} is newer than this reader understands (${expected}): upgrade the reader to one built from a contract with schemaVersion ${found}`,
        );
    }
}

export function describe(value: unknown): string {
    if (value === null) return "null";
    if (Array.isArray(value)) return "an array";
    if (typeof value === "object") return "an object";
    if (typeof value === "string") return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
    return `${typeof value} ${String(value)}`;
}

export interface StackSource {
    stack: string;
    /** Directory holding Pulumi.yaml (default: the current directory). */
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    /** The pulumi binary (default: `pulumi` on PATH). */
    pulumi?: string;
}

/** Runs `pulumi stack output --json` exactly as a person would, and reads its result. */
export function readAtlasFromStack(src: StackSource): AtlasOutput {
    let text: string;
    try {
        text = execFileSync(src.pulumi ?? "pulumi", ["stack", "output", "--json", "--stack", src.stack], {
            cwd: src.cwd,
            env: src.env ?? process.env,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
        });
    } catch (e) {
        const err = e as { stderr?: string; message: string };
        throw new AtlasReadError("input", `\`pulumi stack output --json --stack ${src.stack}\` failed: ${(err.stderr || err.message).trim()}`);
    }
    return parseAtlas(text);
}
