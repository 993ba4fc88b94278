import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT_FOR_TESTS } from "./paths";

/** Copies the module crate (without build output) so a test can edit it. */
export function copyModule(dest: string): string {
    fs.cpSync(path.join(PROJECT_ROOT_FOR_TESTS, "module"), dest, { recursive: true, filter: (src) => !src.includes(`${path.sep}target`) });
    return dest;
}
