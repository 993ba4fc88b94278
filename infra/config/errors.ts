import type { z } from "zod";
import { PROJECT } from "../facts";
import { show } from "./fields";

export const CONFIG_NAMESPACE = PROJECT;

/** Every problem in a stack's config, each naming its key path, what is wrong and a valid example. */
export class ConfigError extends Error {
    constructor(readonly problems: string[]) {
        super(`invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}); nothing was created:\n` + problems.map((p) => `  - ${p}`).join("\n"));
        this.name = "ConfigError";
    }
}

export function keyPath(path: readonly PropertyKey[]): string {
    const [head, ...rest] = path.map(String);
    if (head === undefined) return CONFIG_NAMESPACE;
    return `${CONFIG_NAMESPACE}:${head}${rest.map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join("")}`;
}

/** Turns zod issues into lines like `inner-universe:spacetimedb.port: expected 1–65535, got 70000 (example: 3000)`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], schema: z.ZodType): string[] {
    return issues.map((issue) => {
        const example = exampleAt(schema, issue.path);
        const message = describeIssue(issue);
        return `${keyPath(issue.path)}: ${message}${example === undefined ? "" : ` (example: ${show(example)})`}`;
    });
}

function describeIssue(issue: z.core.$ZodIssue): string {
    if (issue.code === "unrecognized_keys") {
        return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}; remove or rename ${issue.keys.length > 1 ? "them" : "it"}`;
    }
    if (issue.code === "invalid_type" && issue.input === undefined) {
        return `required (expected ${issue.expected})`;
    }
    return issue.message;
}

/** Walks the schema along a key path (through defaults, optionals and objects) to the field's example. */
export function exampleAt(schema: z.ZodType, path: readonly PropertyKey[]): unknown {
    let node: any = schema;
    for (const key of path) {
        node = unwrap(node);
        const shape = node?._zod?.def?.shape;
        if (!shape || typeof key !== "string" || !(key in shape)) return undefined;
        node = shape[key];
    }
    for (let n: any = node; n; n = n?._zod?.def?.innerType ?? n?._zod?.def?.in) {
        const examples = n.meta?.()?.examples;
        if (Array.isArray(examples) && examples.length > 0) return examples[0];
        if (!n._zod?.def?.innerType && !n._zod?.def?.in) break;
    }
    return undefined;
}

function unwrap(node: any): any {
    let n = node;
    while (n?._zod?.def && !n._zod.def.shape && (n._zod.def.innerType || n._zod.def.in || n._zod.def.schema)) {
        n = n._zod.def.innerType ?? n._zod.def.in ?? n._zod.def.schema;
    }
    return n;
}
