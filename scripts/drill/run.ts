/**
 * The drill by hand: boots one prod host from the user data the program renders (see
 * docs/drill.md) on a blank volume, waits for its bootstrap, asks /v1/ping through its TLS front,
 * then removes everything it created. The full set of checks is test/e2e/drill.test.ts.
 * Usage: tsx scripts/drill/run.ts [--keep]   (--keep: leave the host running; teardown by hand)
 */
import { parseArgs } from "node:util";
import { Drill } from "../lib/drill/drill";
import { waitFor } from "../lib/drill/exec";
import { frontRequest } from "../lib/drill/front";

async function main() {
    const { values } = parseArgs({ options: { keep: { type: "boolean", default: false } } });
    const started = Date.now();
    const drill = await Drill.setup();
    try {
        const volume = await drill.volume("data");
        const host = await drill.boot("host1", volume, drill.rendered.instanceId);
        const result = await host.bootstrap();
        process.stdout.write(
            `bootstrap: ${result.outcome} (cloud-init: ${result.cloudInit})\n${result.log
                .split("\n")
                .filter((l) => l.includes("[iu-bootstrap]"))
                .join("\n")}\n`,
        );
        if (result.outcome !== "done") throw new Error(`bootstrap ${result.outcome}:\n${await host.diagnostics()}`);
        const ip = await host.ip();
        const ping = await waitFor("/v1/ping through the TLS front", 180_000, async () => {
            const r = await frontRequest(ip, drill.domain, drill.caRoot, "GET", "/v1/ping");
            return r.status === 200 ? r : undefined;
        });
        process.stdout.write(`https://${drill.domain}/v1/ping at ${ip}: ${ping.status}, certificate issued by ${ping.cert.issuer.CN}\n`);
        if (values.keep) {
            process.stdout.write(`kept: host ${host.name}, network ${drill.network}, work dir ${drill.workDir}\n`);
            return;
        }
    } catch (e) {
        if (!values.keep) await drill.teardown();
        throw e;
    }
    await drill.teardown();
    process.stdout.write(`drill took ${Math.round((Date.now() - started) / 1000)}s\n`);
}

main().catch((e) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
});
