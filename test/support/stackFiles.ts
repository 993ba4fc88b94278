import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { PROJECT_ROOT_FOR_TESTS } from "./paths";

/** The `inner-universe:*` values of a committed Pulumi.<stack>.yaml, as Pulumi hands them to the program. */
export function stackFileConfig(stack: string): Record<string, unknown> {
    const doc = parse(fs.readFileSync(path.join(PROJECT_ROOT_FOR_TESTS, `Pulumi.${stack}.yaml`), "utf8")) as {
        config?: Record<string, unknown>;
    };
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        if (key.startsWith("inner-universe:")) out[key.slice("inner-universe:".length)] = value;
    }
    return out;
}
