import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { AtlasOutput } from "../../infra/contract/atlas";
import { describe, validate, type SchemaProblem } from "./json-schema";

/**
 * Reads the `atlas` stack output (from `pulumi stack output --json`, a file or stdin) and checks it
 * against the committed JSON Schema, so Atlas never guesses at URLs or versions. The schema
 * version this reader understands is the schema's own `schemaVersion.const`: regenerating the
 * schema is the only way to change it.
 */

export const DEFAULT_SCHEMA_PATH = path.resolve(__dirname, "..", "..", "infra", "contract", "atlas.schema.json");

export type AtlasErrorKind = "input" | "version-missing" | "version-invalid" | "version-older" | "version-newer" | "invalid";

export class AtlasReadError extends Error {
    constructor(
        readonly kind: AtlasErrorKind,
        message: string,
        readonly problems: SchemaProblem[] = [],
    ) {
        super(message);
        this.name = "AtlasReadError";
    }
}

export interface AtlasSchema {
    document: Record<string, unknown>;
    version: number;
}

export function loadSchema(file = DEFAULT_SCHEMA_PATH): AtlasSchema {
    if (!fs.existsSync(file)) {
        throw new Error(`atlas JSON Schema not found at ${file}; generate it with \`npm run schema:atlas\``);
    }
    const document = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
    return { document, version: schemaVersionOf(document) };
}

/** The version a schema describes: `properties.schemaVersion.const`, an integer. */
export function schemaVersionOf(document: Record<string, unknown>): number {
    const v = (document.properties as Record<string, { const?: unknown }> | undefined)?.schemaVersion?.const;
    if (typeof v !== "number" || !Number.isInteger(v)) {
        throw new Error("the atlas JSON Schema has no integer properties.schemaVersion.const; regenerate it with `npm run schema:atlas`");
    }
    return v;
}

/** Parses stack-output JSON text and returns the validated atlas object. */
export function parseAtlas(text: string, schema: AtlasSchema = loadSchema()): AtlasOutput {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch (e) {
        throw new AtlasReadError("input", `stack output is not JSON (${(e as Error).message}); pass the output of \`pulumi stack output --json\``);
    }
    return checkAtlas(pickAtlas(parsed), schema);
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
    throw new AtlasReadError(
        "input",
        `no \`atlas\` output in the stack outputs (keys: ${keys.length ? keys.join(", ") : "none"}); deploy the stack with \`pulumi up\` first`,
    );
}

export function checkAtlas(atlas: unknown, schema: AtlasSchema): AtlasOutput {
    if (typeof atlas !== "object" || atlas === null || Array.isArray(atlas)) {
        throw new AtlasReadError("input", `the atlas output must be an object, got ${describe(atlas)}`);
    }
    checkVersion((atlas as Record<string, unknown>).schemaVersion, schema.version);
    const problems = validate(schema.document, atlas, "atlas");
    if (problems.length > 0) {
        throw new AtlasReadError(
            "invalid",
            `atlas output violates the contract (schemaVersion ${schema.version}):\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n")}`,
            problems,
        );
    }
    return atlas as AtlasOutput;
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
            `atlas schemaVersion ${found} is newer than this reader understands (${expected}): upgrade the reader to one built from a schema with schemaVersion ${found}`,
        );
    }
}

export function readAtlasFile(file: string, schema?: AtlasSchema): AtlasOutput {
    return parseAtlas(fs.readFileSync(file, "utf8"), schema);
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
export function readAtlasFromStack(src: StackSource, schema?: AtlasSchema): AtlasOutput {
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
    return parseAtlas(text, schema);
}
