import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../support/paths";

/** The README's architecture picture and folder table name folders and files that exist. */
const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
const table = [...readme.matchAll(/^\| `([\w./-]+\/)` \|/gm)].map((m) => m[1]!);
const mermaid = readme.slice(readme.indexOf("```mermaid"), readme.indexOf("```", readme.indexOf("```mermaid") + 3));
const pictured = [...mermaid.matchAll(/"((?:infra|ops|scripts|toolchain|policy|module|readers)\/[\w./-]*)/g)].map((m) => m[1]!.replace(/<br\/>.*$/, ""));

describe("README architecture", () => {
    it("has a folder table and a picture", () => {
        expect(table.length).toBeGreaterThan(8);
        expect(pictured.length).toBeGreaterThan(5);
    });

    it("names every top-level folder the repository holds", () => {
        const tracked = execFileSync("git", ["ls-files", "-co", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" }).split("\n");
        const top = [...new Set(tracked.filter((f) => f.includes("/") && !f.startsWith(".")).map((f) => `${f.split("/")[0]}/`))];
        expect(top.filter((d) => !table.includes(d))).toEqual([]);
    });

    it.each(table)("folder %s exists", (dir) => {
        expect(fs.statSync(path.join(ROOT, dir)).isDirectory()).toBe(true);
    });

    it.each(pictured)("pictured %s exists", (p) => {
        const candidates = [p, `${p}.ts`, p.replace(/\/$/, "")].map((c) => path.join(ROOT, c));
        expect(
            candidates.some((c) => fs.existsSync(c)),
            p,
        ).toBe(true);
    });
});
