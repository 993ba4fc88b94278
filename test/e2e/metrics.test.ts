import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderCwAgentConfig, STDB_DIMENSION, STDB_SERIES } from "../../infra/aws/render/cwAgentConfig";
import { freePort } from "../../ops/ports";
import { type Standalone, startStandalone } from "../support/standalone";

/**
 * Every series the CloudWatch agent config names must exist on a real spacetimedb-standalone 1.2.0,
 * with a type the agent converts (it drops histograms) and the labels its declarations filter on.
 * The server gets one database (the module fixture) and one reducer call: the per-database series
 * appear only once a database exists.
 */

const ROOT = path.resolve(__dirname, "../..");
const FIXTURE = path.join(ROOT, "test", "fixtures", "spacetimedb", "module.wasm.gz");

interface Sample {
    name: string;
    labels: Record<string, string>;
    value: number;
}

/** The Prometheus text exposition format, as much of it as /v1/metrics uses. */
export function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
    const types = new Map<string, string>();
    const samples: Sample[] = [];
    for (const line of text.split("\n")) {
        if (line.startsWith("# TYPE ")) {
            const [, , name, type] = line.split(" ");
            types.set(name!, type!);
            continue;
        }
        if (line === "" || line.startsWith("#")) continue;
        const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/);
        if (!m) throw new Error(`unparsable exposition line: ${line}`);
        const labels: Record<string, string> = {};
        for (const l of (m[3] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
        samples.push({ name: m[1]!, labels, value: Number(m[4]) });
    }
    return { types, samples };
}

describe("SpacetimeDB /v1/metrics has every series the CloudWatch agent config names (real spacetimedb-standalone 1.2.0)", () => {
    let root: string;
    let url: string;
    let server: Standalone | undefined;
    let exposition: ReturnType<typeof parseExposition>;

    const http = async (method: string, route: string, body?: Buffer | string, headers: Record<string, string> = {}) => {
        const res = await fetch(`${url}${route}`, { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(60_000) });
        return { status: res.status, text: await res.text() };
    };

    beforeAll(async () => {
        if (!fs.existsSync(FIXTURE)) throw new Error(`module fixture missing: ${FIXTURE} (see test/fixtures/spacetimedb/README.md)`);
        root = fs.mkdtempSync(path.join(os.tmpdir(), "iu-metrics-"));
        fs.mkdirSync(path.join(root, "config"));
        server = await startStandalone(root, await freePort());
        url = server.url;

        const { token } = JSON.parse((await http("POST", "/v1/identity")).text) as { token: string };
        const auth = { Authorization: `Bearer ${token}` };
        const published = await http("PUT", "/v1/database/iu-metrics", gunzipSync(fs.readFileSync(FIXTURE)), { ...auth, "Content-Type": "application/wasm" });
        expect(published.status, published.text).toBe(200);
        const called = await http("POST", "/v1/database/iu-metrics/call/refresh_system_status", "[]", { ...auth, "Content-Type": "application/json" });
        expect(called.status, called.text).toBe(200);
        const scraped = await http("GET", "/v1/metrics");
        expect(scraped.status).toBe(200);
        exposition = parseExposition(scraped.text);
    });

    afterAll(async () => {
        await server?.stop("SIGINT");
        if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    const config = renderCwAgentConfig({ mount: "/stdb", logGroupName: "/g", caddyAccessLog: false, prometheus: { logGroupName: "/p", environment: "e2e" } });
    const declarations = config.logs.metrics_collected!.prometheus.emf_processor.metric_declaration;

    it("the config names at least the chosen series", () => {
        const selectors = declarations.flatMap((d) => d.metric_selectors);
        expect(selectors.length).toBe(STDB_SERIES.length);
    });

    it.each(declarations.flatMap((d) => d.metric_selectors.map((sel) => [sel, d] as const)))(
        "%s exists, as a gauge or counter, with the labels its declaration matches",
        (selector, declaration) => {
            const re = new RegExp(selector);
            const families = [...exposition.types.entries()].filter(([name]) => re.test(name));
            expect(families, `no TYPE line matches ${selector}`).toHaveLength(1);
            const [family, type] = families[0]!;
            expect(["gauge", "counter"], `${family} is a ${type}; the agent drops histograms`).toContain(type);
            const samples = exposition.samples.filter((s) => s.name === family);
            expect(samples.length, `${family} has no samples`).toBeGreaterThan(0);
            // job comes from the scrape config; every other source label must be a label the server puts on the series.
            const matcher = new RegExp(declaration.label_matcher);
            const matching = samples.filter((s) => matcher.test(declaration.source_labels.map((l) => (l === "job" ? "spacetimedb" : (s.labels[l] ?? ""))).join(";")));
            expect(matching.length, `no ${family} sample matches ${declaration.source_labels.join(",")} ~ ${declaration.label_matcher}`).toBeGreaterThan(0);
        },
    );

    it("the server's own labels never collide with the scrape's (job, instance, the dimension label)", () => {
        const own = new Set(exposition.samples.flatMap((s) => Object.keys(s.labels)));
        for (const label of ["job", "instance", STDB_DIMENSION]) expect(own.has(label), label).toBe(false);
    });

    it("the chosen types are the ones the server reports", () => {
        for (const s of STDB_SERIES) expect(exposition.types.get(s.name), s.name).toBe(s.type);
    });

    it("the 1.2 latency series are histograms (so none of them is shipped) — why reducer time comes from a counter", () => {
        expect(exposition.types.get("spacetime_reducer_plus_query_duration_sec")).toBe("histogram");
        expect(STDB_SERIES.some((s) => s.name.startsWith("spacetime_reducer_plus_query_duration_sec"))).toBe(false);
    });
});
