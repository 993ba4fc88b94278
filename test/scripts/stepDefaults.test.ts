import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../support/paths";

/**
 * One fact, one place: every value a step script needs comes from the program, which takes it
 * from the zod schema (where each default lives once). A step script that defaulted a value
 * itself (`${IU_READY_TIMEOUT:-60}`) could disagree with the schema; it must demand it instead
 * (`${IU_READY_TIMEOUT:?…}`). Optional values may default to empty.
 */
const components = path.join(ROOT, "infra", "components");
const stepScripts = [
    ...new Set(
        fs
            .readdirSync(components)
            .flatMap((f) => [...fs.readFileSync(path.join(components, f), "utf8").matchAll(/script\(\s*"([\w-]+\.sh)"|ctl:\s*"([\w-]+\.sh)"|"scripts", "([\w-]+\.sh)"/g)])
            .map((m) => (m[1] ?? m[2] ?? m[3])!),
    ),
].sort();

describe("step scripts take values, never default them", () => {
    it("finds the step scripts the components run", () => {
        expect(stepScripts).toEqual(expect.arrayContaining(["proxy-ctl.sh", "server-ctl.sh", "state-dir.sh"]));
    });

    it.each(stepScripts)("%s defaults no IU_* value", (name) => {
        const text = fs.readFileSync(path.join(ROOT, "scripts", name), "utf8");
        expect([...text.matchAll(/\$\{(IU_[A-Z_]+):-([^}]+)\}/g)].map((m) => `${m[1]} defaults to ${m[2]}`)).toEqual([]);
    });
});
