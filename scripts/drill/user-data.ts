/**
 * Writes (JSON, to OUT: the program may log on stdout) the user data the program renders for the prod stack with drill overrides as stack
 * config, taken from the registered aws.ec2.Instance under Pulumi mocks.
 * Usage: tsx scripts/drill/user-data.ts OVERRIDES.json OUT.json
 */
import * as fs from "node:fs";
import { renderProdHost } from "../lib/drill/userData";

async function main() {
    const [file, out] = process.argv.slice(2);
    if (!file || !out) throw new Error("usage: tsx scripts/drill/user-data.ts OVERRIDES.json OUT.json");
    const overrides = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
    fs.writeFileSync(out, `${JSON.stringify(await renderProdHost(overrides))}\n`);
}

main().catch((e) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
});
