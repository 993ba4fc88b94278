import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../../support/paths";

/**
 * The program runs under the CLI's ts-node, the provider implementations (`*-impl.ts`) under
 * Node's own type stripping, which needs `.ts` on relative imports; tsconfig's
 * rewriteRelativeImportExtensions lets both type-check, but ts-node then rewrites a `.ts` import
 * to `.js`, a file that does not exist. So nothing the program loads may value-import with a
 * `.ts` specifier (type-only imports are erased). vitest would not notice (it resolves both);
 * only a `pulumi up` would, so this walks the program's import graph from infra/index.ts.
 */
const IMPORT = /^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+"(\.{1,2}\/[^"]+)"/gm;

function resolve(from: string, spec: string): string {
    const base = path.resolve(path.dirname(from), spec);
    for (const c of [base, `${base}.ts`, path.join(base, "index.ts")]) if (fs.existsSync(c) && fs.statSync(c).isFile()) return c;
    throw new Error(`${path.relative(ROOT, from)}: cannot resolve ${spec}`);
}

function programGraph(entry: string): Map<string, { spec: string; typeOnly: boolean }[]> {
    const graph = new Map<string, { spec: string; typeOnly: boolean }[]>();
    const todo = [entry];
    while (todo.length) {
        const file = todo.pop()!;
        if (graph.has(file)) continue;
        const imports = [...fs.readFileSync(file, "utf8").matchAll(IMPORT)].map((m) => ({ spec: m[3]!, typeOnly: Boolean(m[2]) }));
        graph.set(file, imports);
        for (const i of imports) if (!i.typeOnly) todo.push(resolve(file, i.spec));
    }
    return graph;
}

const graph = programGraph(path.join(ROOT, "infra", "index.ts"));

describe("what the program loads under ts-node", () => {
    it("reaches the components and the SpacetimeDB resources", () => {
        const files = [...graph.keys()].map((f) => path.relative(ROOT, f));
        expect(files).toEqual(expect.arrayContaining(["infra/program.ts", "infra/spacetimedb/database.ts", "infra/lib/canonicalJson.ts"]));
    });

    it("value-imports nothing by a .ts path (ts-node would look for .js)", () => {
        const bad = [...graph].flatMap(([file, imports]) => imports.filter((i) => !i.typeOnly && i.spec.endsWith(".ts")).map((i) => `${path.relative(ROOT, file)} → ${i.spec}`));
        expect(bad).toEqual([]);
    });

    it("imports @pulumi/aws by service, never its index (≈0.2 s of every preview, whatever the runtime)", () => {
        const indexImporters = [...graph.keys()]
            .filter((f) => /^import\s+(?!type\b)[^;]*from\s+"@pulumi\/aws"/m.test(fs.readFileSync(f, "utf8")))
            .map((f) => path.relative(ROOT, f));
        expect(indexImporters).toEqual([]);
        expect([...graph.keys()].map((f) => path.relative(ROOT, f))).toContain("infra/aws/sdk.ts");
    });

    it("loads no provider implementation (those run in the provider process)", () => {
        expect([...graph.keys()].map((f) => path.relative(ROOT, f)).filter((f) => f.endsWith("-impl.ts"))).toEqual([]);
    });
});
