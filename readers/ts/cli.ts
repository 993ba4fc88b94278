/**
 * Validates and prints the atlas output against the contract (infra/contract/atlas.ts):
 *   tsx readers/ts/cli.ts --stack dev [--cwd DIR]   (runs `pulumi stack output --json`)
 *   tsx readers/ts/cli.ts --file outputs.json
 *   pulumi stack output --json | tsx readers/ts/cli.ts -
 * Exit 0 with the atlas object on stdout; exit 1 with the reason on stderr; 2 on bad usage.
 */
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { AtlasReadError, parseAtlas, readAtlasFromStack } from "./atlas-reader";

const USAGE = "usage: atlas-reader (--stack NAME [--cwd DIR] | --file PATH | -)";

function main(argv: string[]): number {
    let args: ReturnType<typeof parse>;
    try {
        args = parse(argv);
    } catch (e) {
        console.error(`atlas-reader: ${(e as Error).message}\n${USAGE}`);
        return 2;
    }
    const { values, positionals } = args;
    const { stack, file, cwd } = values;
    const stdin = positionals.includes("-");
    if ([stack, file, stdin || undefined].filter(Boolean).length !== 1) {
        console.error(USAGE);
        return 2;
    }
    try {
        const atlas = stack ? readAtlasFromStack({ stack, ...(cwd ? { cwd } : {}) }) : parseAtlas(fs.readFileSync(file ?? 0, "utf8"));
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

function parse(argv: string[]) {
    return parseArgs({
        args: argv,
        allowPositionals: true,
        options: { stack: { type: "string" }, file: { type: "string" }, cwd: { type: "string" } },
    });
}

process.exitCode = main(process.argv.slice(2));
