/**
 * The host drill by hand (`npm run ops -- drill host [--keep]`): boots one prod host from the user
 * data the program renders (see docs/drill.md) on a blank volume, waits for its bootstrap, asks
 * /v1/ping through its TLS front, then removes everything it created.
 */
import { Drill } from "./drill";
import { waitFor } from "./exec";
import { frontRequest } from "./front";

export async function hostDrill(opts: { keep: boolean; progress: (l: string) => void; print: (l: string) => void }): Promise<number> {
    const started = Date.now();
    opts.progress("drill host: building the host image and assets (first run: minutes), then booting one host…");
    const drill = await Drill.setup();
    try {
        const volume = await drill.volume("data");
        const host = await drill.boot("host1", volume, drill.rendered.instanceId);
        const result = await host.bootstrap();
        opts.print(
            `bootstrap: ${result.outcome} (cloud-init: ${result.cloudInit})\n${result.log
                .split("\n")
                .filter((l) => l.includes("[iu-bootstrap]"))
                .join("\n")}`,
        );
        if (result.outcome !== "done") throw new Error(`bootstrap ${result.outcome}:\n${await host.diagnostics()}`);
        const ip = await host.ip();
        const ping = await waitFor("/v1/ping through the TLS front", 180_000, async () => {
            const r = await frontRequest(ip, drill.domain, drill.caRoot, "GET", "/v1/ping");
            return r.status === 200 ? r : undefined;
        });
        opts.print(`https://${drill.domain}/v1/ping at ${ip}: ${ping.status}, certificate issued by ${ping.cert.issuer.CN}`);
        if (opts.keep) {
            opts.print(`kept: host ${host.name}, network ${drill.network}, work dir ${drill.workDir}`);
            return 0;
        }
    } catch (e) {
        if (!opts.keep) await drill.teardown();
        throw e;
    }
    await drill.teardown();
    opts.print(`drill took ${Math.round((Date.now() - started) / 1000)}s`);
    return 0;
}
