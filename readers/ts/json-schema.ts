/**
 * A deliberately small JSON Schema (draft 2020-12) validator: exactly the keywords the atlas
 * contract's generated schema uses. The Python reader implements the same subset, so both
 * readers accept and reject the same documents. A keyword outside the subset throws instead of
 * being ignored: a schema change that needs more must fail the reader's tests, not pass silently.
 */

export interface SchemaProblem {
    /** JSON path of the offending value, e.g. `atlas.http.url`. */
    path: string;
    message: string;
}

export class UnsupportedSchemaError extends Error {
    constructor(keyword: string, at: string) {
        super(`the atlas JSON Schema uses "${keyword}" at ${at}, which this reader does not implement; update readers/ts/json-schema.ts and readers/python`);
        this.name = "UnsupportedSchemaError";
    }
}

type Schema = Record<string, unknown>;

const ANNOTATIONS = new Set(["$id", "$schema", "title", "description", "examples", "default", "$comment"]);
const KEYWORDS = new Set([
    "type",
    "properties",
    "required",
    "additionalProperties",
    "const",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "items",
]);

export function validate(schema: Schema, value: unknown, path = "$"): SchemaProblem[] {
    for (const key of Object.keys(schema)) {
        if (!KEYWORDS.has(key) && !ANNOTATIONS.has(key)) throw new UnsupportedSchemaError(key, path);
    }
    const problems: SchemaProblem[] = [];
    const fail = (message: string, at = path) => problems.push({ path: at, message });

    if (schema.type !== undefined && !hasType(value, schema.type as string | string[])) {
        fail(`expected ${[schema.type].flat().join(" or ")}, got ${describe(value)}`);
        return problems;
    }
    if ("const" in schema && !deepEqual(value, schema.const)) fail(`expected ${JSON.stringify(schema.const)}, got ${describe(value)}`);
    if (Array.isArray(schema.enum) && !schema.enum.some((e) => deepEqual(value, e))) {
        fail(`expected one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}, got ${describe(value)}`);
    }
    if (typeof value === "string") {
        const length = [...value].length;
        if (typeof schema.minLength === "number" && length < schema.minLength) fail(`expected at least ${schema.minLength} characters, got ${length}`);
        if (typeof schema.maxLength === "number" && length > schema.maxLength) fail(`expected at most ${schema.maxLength} characters, got ${length}`);
        if (typeof schema.pattern === "string" && !new RegExp(schema.pattern, "u").test(value)) {
            fail(`${JSON.stringify(value)} does not match ${schema.pattern}`);
        }
    }
    if (typeof value === "number") {
        if (typeof schema.minimum === "number" && value < schema.minimum) fail(`expected ≥ ${schema.minimum}, got ${value}`);
        if (typeof schema.maximum === "number" && value > schema.maximum) fail(`expected ≤ ${schema.maximum}, got ${value}`);
    }
    if (Array.isArray(value) && isSchema(schema.items)) {
        value.forEach((item, i) => problems.push(...validate(schema.items as Schema, item, `${path}[${i}]`)));
    }
    if (isPlainObject(value)) problems.push(...validateObject(schema, value, path));
    return problems;
}

function validateObject(schema: Schema, value: Record<string, unknown>, path: string): SchemaProblem[] {
    const problems: SchemaProblem[] = [];
    const properties = (isSchema(schema.properties) ? schema.properties : {}) as Record<string, Schema>;
    for (const key of (schema.required as string[] | undefined) ?? []) {
        if (!(key in value)) problems.push({ path: `${path}.${key}`, message: "required but missing" });
    }
    for (const [key, child] of Object.entries(value)) {
        if (key in properties) {
            problems.push(...validate(properties[key]!, child, `${path}.${key}`));
        } else if (schema.additionalProperties === false) {
            problems.push({ path: `${path}.${key}`, message: "unexpected key (not in the contract)" });
        } else if (isSchema(schema.additionalProperties)) {
            problems.push(...validate(schema.additionalProperties, child, `${path}.${key}`));
        }
    }
    return problems;
}

function hasType(value: unknown, type: string | string[]): boolean {
    return [type].flat().some((t) => {
        switch (t) {
            case "string":
                return typeof value === "string";
            case "number":
                return typeof value === "number" && Number.isFinite(value);
            case "integer":
                return typeof value === "number" && Number.isInteger(value);
            case "boolean":
                return typeof value === "boolean";
            case "object":
                return isPlainObject(value);
            case "array":
                return Array.isArray(value);
            case "null":
                return value === null;
            default:
                throw new UnsupportedSchemaError(`type: ${t}`, "a type keyword");
        }
    });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isSchema(v: unknown): v is Schema {
    return isPlainObject(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
    if (typeof a !== typeof b) return false;
    if (Array.isArray(a) || Array.isArray(b)) {
        return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
    }
    if (isPlainObject(a) && isPlainObject(b)) {
        const ka = Object.keys(a);
        return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
    }
    return a === b;
}

export function describe(value: unknown): string {
    if (value === null) return "null";
    if (Array.isArray(value)) return "an array";
    if (typeof value === "object") return "an object";
    if (typeof value === "string") return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
    return `${typeof value} ${String(value)}`;
}
