/**
 * The host drill's child process (Pulumi mocks keep global state, so the program runs in a fresh
 * process): writes, as JSON to OUT (the program may log on stdout), the user data the program
 * renders for the prod stack with drill overrides as stack config, taken from the registered
 * aws.ec2.Instance under Pulumi mocks. Not an operator command: ops/drill/host/drill.ts runs it as
 *   tsx ops/drill/host/user-data.ts OVERRIDES.json OUT.json
 */
import * as fs from "node:fs";
import { renderProdHost } from "./userData";

const [file, out] = process.argv.slice(2);
renderProdHost(JSON.parse(fs.readFileSync(file ?? "", "utf8")) as Record<string, unknown>)
    .then((rendered) => fs.writeFileSync(out ?? "", `${JSON.stringify(rendered)}\n`))
    .catch((e: unknown) => {
        process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
        process.exit(1);
    });
