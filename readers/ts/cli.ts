/**
 * Validates and prints the atlas output:
 *   tsx readers/ts/cli.ts --stack dev [--cwd DIR]   (runs `pulumi stack output --json`)
 *   tsx readers/ts/cli.ts --file outputs.json
 *   pulumi stack output --json | tsx readers/ts/cli.ts -
 * Options: --schema FILE (default infra/contract/atlas.schema.json).
 * Exit 0 with the atlas object on stdout; exit 1 with the reason on stderr; 2 on bad usage.
 */
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { AtlasReadError, loadSchema, parseAtlas, readAtlasFromStack } from "./atlas-reader";

function main(argv: string[]): number {
    const { values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: { schema: { type: "string" }, stack: { type: "string" }, file: { type: "string" }, cwd: { type: "string" } },
    });
    const schema = loadSchema(values.schema);
    const { stack, file } = values;
    const stdin = positionals.includes("-");
    if ([stack, file, stdin || undefined].filter(Boolean).length !== 1) {
        console.error("usage: atlas-reader (--stack NAME [--cwd DIR] | --file PATH | -) [--schema FILE]");
        return 2;
    }
    try {
        const cwd = values.cwd;
        const atlas = stack
            ? readAtlasFromStack({ stack, ...(cwd ? { cwd } : {}) }, schema)
            : parseAtlas(fs.readFileSync(file ?? 0, "utf8"), schema);
        process.stdout.write(`${JSON.stringify(atlas, null, 2)}\n`);
        return 0;
    } catch (e) {
        if (e instanceof AtlasReadError) {
            console.error(`atlas-reader: ${e.kind}: ${e.message}`);
            return 1;
        }
        throw e;
    }
}

process.exitCode = main(process.argv.slice(2));
