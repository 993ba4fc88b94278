import { describe, expect, it } from "vitest";
import { z } from "zod";
import { type AlarmFacts, alarmSpecs, HEALTH_CHECK_METRICS_REGION, metricsOf } from "../../../infra/aws/alarmSpecs";
import { dashboardBody, GRID_WIDTH, metricRow } from "../../../infra/aws/dashboard";
import { emittedMetric, emittedStdbMetric, renderCwAgentConfig, STDB_NAMESPACE, STDB_SERIES } from "../../../infra/aws/render/cwAgentConfig";

const agentConfig = renderCwAgentConfig({
    mount: "/stdb",
    logGroupName: "/inner-universe/prod/host",
    caddyAccessLog: true,
    prometheus: { logGroupName: "/inner-universe/prod/prometheus", environment: "prod" },
});
const thresholds = {
    cpu_percent: 80,
    memory_percent: 85,
    disk_percent: 75,
    connected_clients_percent: 90,
    reducer_queue_length: 25,
    reducer_busy_percent: 80,
    commitlog_growth_gb_per_day: 10,
};
const facts = (over: Partial<AlarmFacts> = {}): AlarmFacts => ({ instanceId: "i-1", mount: "/stdb", environment: "prod", agentConfig, thresholds, maxConnections: 200, ...over });
const byKey = (specs: ReturnType<typeof alarmSpecs<string>>, key: string) => specs.find((s) => s.key === key)!;

describe("alarmSpecs: one row per alarm", () => {
    it("has the host and database alarms always, the front alarms only with an ALB or a domain", () => {
        expect(alarmSpecs(facts()).map((s) => s.key)).toEqual([
            "system-status",
            "instance-status",
            "cpu",
            "memory",
            "disk",
            "stdb-clients",
            "stdb-reducer-queue",
            "stdb-reducer-busy",
            "stdb-commitlog-growth",
        ]);
        const all = alarmSpecs(facts({ alb: { loadBalancer: "app/lb/1", targetGroup: "targetgroup/tg/2" }, external: { domain: "db.example", healthCheckId: "hc-1" } }));
        expect(all.map((s) => s.key).slice(-2)).toEqual(["alb-healthy-hosts", "external-health"]);
        expect(new Set(all.map((s) => s.key)).size).toBe(all.length);
    });

    it.each([
        ["system-status", "AWS/EC2", "StatusCheckFailed_System", ["recover"], "missing"],
        ["instance-status", "AWS/EC2", "StatusCheckFailed_Instance", ["reboot"], "missing"],
        ["cpu", "AWS/EC2", "CPUUtilization", [], "missing"],
        ["memory", "CWAgent", "mem_used_percent", [], "breaching"],
        ["disk", "CWAgent", "disk_used_percent", [], "breaching"],
        ["stdb-clients", STDB_NAMESPACE, "spacetime_worker_connected_clients", [], "notBreaching"],
        ["stdb-reducer-queue", STDB_NAMESPACE, "spacetime_worker_instance_operation_queue_length", [], "notBreaching"],
        ["stdb-reducer-busy", STDB_NAMESPACE, "reducer_wasm_time_usec", [], "notBreaching"],
        ["stdb-commitlog-growth", STDB_NAMESPACE, "spacetime_message_log_size_bytes", [], "notBreaching"],
    ])("%s reads %s %s, acts %j, missing data %s", (key, namespace, metricName, actions, missing) => {
        const spec = byKey(alarmSpecs(facts()), key);
        expect(metricsOf(spec).map((m) => [m.namespace, m.metricName])).toEqual([[namespace, metricName]]);
        expect(spec.actions).toEqual(actions);
        expect(spec.treatMissingData).toBe(missing);
        expect(spec.description.length).toBeGreaterThan(20);
    });

    it("takes thresholds from config: clients at the configured share of server.max_connections", () => {
        expect(byKey(alarmSpecs(facts()), "stdb-clients").threshold).toBe(180);
        expect(byKey(alarmSpecs(facts({ maxConnections: 10, thresholds: { ...thresholds, connected_clients_percent: 50 } })), "stdb-clients").threshold).toBe(5);
        // Never 0: an alarm at 0 clients would fire on an idle database.
        expect(byKey(alarmSpecs(facts({ maxConnections: 1, thresholds: { ...thresholds, connected_clients_percent: 10 } })), "stdb-clients").threshold).toBe(1);
        const s = alarmSpecs(
            facts({ thresholds: { ...thresholds, cpu_percent: 55, disk_percent: 60, reducer_queue_length: 7, reducer_busy_percent: 33, commitlog_growth_gb_per_day: 2 } }),
        );
        expect(["cpu", "disk", "stdb-reducer-queue", "stdb-reducer-busy", "stdb-commitlog-growth"].map((k) => byKey(s, k).threshold)).toEqual([55, 60, 7, 33, 2]);
    });

    it("names agent metrics exactly as the agent config makes the agent emit them", () => {
        const s = alarmSpecs(facts());
        expect(byKey(s, "disk").metric).toMatchObject(emittedMetric(agentConfig, "disk", { instanceId: "i-1", path: "/stdb", fstype: "xfs" }));
        expect(byKey(s, "memory").metric).toMatchObject(emittedMetric(agentConfig, "mem", { instanceId: "i-1" }));
        for (const spec of s.filter((x) => x.group === "database")) {
            for (const m of metricsOf(spec)) expect(m, spec.key).toMatchObject(emittedStdbMetric(agentConfig, m.metricName, "prod"));
        }
    });

    it("turns reducer time into a percentage of the period, and commitlog size into GB per day", () => {
        const busy = byKey(alarmSpecs(facts()), "stdb-reducer-busy").expression!;
        expect(busy.metrics.m1).toMatchObject({ statistic: "Sum", period: 300 });
        // 240 s of reducer time in a 300 s period is 80 %.
        const evalBusy = (m1: number, period: number) => Function("m1", "PERIOD", `return ${busy.expression}`)(m1, () => period);
        expect(evalBusy(240e6, 300)).toBeCloseTo(80);
        const growth = byKey(alarmSpecs(facts()), "stdb-commitlog-growth").expression!;
        // RATE is bytes per second: 1 GB/day is 1e9/86400 B/s.
        expect(Function("RATE", "m1", `return ${growth.expression}`)((x: number) => x, 1e9 / 86400)).toBeCloseTo(1);
    });

    it("refuses a database alarm whose series the agent does not ship", () => {
        const noProm = renderCwAgentConfig({ mount: "/stdb", logGroupName: "/g", caddyAccessLog: false });
        expect(() => alarmSpecs(facts({ agentConfig: noProm }))).toThrow(/scrapes no Prometheus/);
    });

    it("puts the Route 53 alarm in us-east-1 and every database alarm on a series of the shipped set", () => {
        const s = alarmSpecs(facts({ external: { domain: "db.example", healthCheckId: "hc-1" } }));
        expect(byKey(s, "external-health")).toMatchObject({ region: HEALTH_CHECK_METRICS_REGION, metric: { dimensions: { HealthCheckId: "hc-1" } } });
        const shipped = new Set(STDB_SERIES.map((x) => x.name));
        for (const spec of s.filter((x) => x.group === "database")) for (const m of metricsOf(spec)) expect(shipped.has(m.metricName), m.metricName).toBe(true);
    });
});

describe("dashboardBody", () => {
    const specs = alarmSpecs(facts({ external: { domain: "db.example", healthCheckId: "hc-1" }, alb: { loadBalancer: "app/lb/1", targetGroup: "targetgroup/tg/2" } }));
    const arn = (key: string, region = "eu-west-1") => `arn:aws:cloudwatch:${region}:123456789012:alarm:inner-universe-prod-mon-${key}`;
    const body = dashboardBody({
        stack: "prod",
        region: "eu-west-1",
        alarms: specs.map((spec) => ({ spec, arn: arn(spec.key, spec.region) })),
        series: STDB_SERIES.map((series) => ({ series, metric: emittedStdbMetric(agentConfig, series.name, "prod") })),
        logGroupName: "/inner-universe/prod/host",
    });

    it("graphs every alarm of the table (derived from alarmSpecs, not listed here) in its own region", () => {
        for (const spec of specs) {
            const widget = body.widgets.find((w) => (w.properties.annotations as any)?.alarms?.includes(arn(spec.key, spec.region)));
            expect(widget, spec.key).toBeDefined();
            expect(widget!.type).toBe("metric");
            expect(widget!.properties.title).toBe(spec.title);
            expect(widget!.properties.region).toBe(spec.region ?? "eu-west-1");
        }
    });

    it("lists the home-region alarms in one status grid", () => {
        const grids = body.widgets.filter((w) => w.type === "alarm");
        expect(grids).toHaveLength(1);
        expect(grids[0]!.properties.alarms).toEqual(specs.filter((s) => !s.region).map((s) => arn(s.key)));
    });

    it("graphs every shipped SpacetimeDB series with the metric the agent emits", () => {
        for (const s of STDB_SERIES) {
            const w = body.widgets.find((x) => x.properties.title === s.name)!;
            expect(w.properties.metrics).toEqual([[STDB_NAMESPACE, s.name, "environment", "prod"]]);
            expect(w.properties.stat).toBe(s.type === "counter" ? "Sum" : "Maximum");
        }
        expect(metricRow({ namespace: "N", metricName: "m", dimensions: { a: "1", b: "2" } })).toEqual(["N", "m", "a", "1", "b", "2"]);
    });

    it("is a valid grid: inside 24 columns, no two widgets overlapping, and serialisable under the 1 MB body limit", () => {
        const cells = new Set<string>();
        for (const w of body.widgets) {
            expect(w.x + w.width).toBeLessThanOrEqual(GRID_WIDTH);
            expect(w.width).toBeGreaterThan(0);
            for (let x = w.x; x < w.x + w.width; x++) {
                for (let y = w.y; y < w.y + w.height; y++) {
                    const cell = `${x},${y}`;
                    expect(cells.has(cell), `overlap at ${cell}`).toBe(false);
                    cells.add(cell);
                }
            }
        }
        expect(body.widgets.length).toBeLessThanOrEqual(500);
        expect(JSON.stringify(body).length).toBeLessThan(1_000_000);
    });

    it("validates against the documented DashboardBody shape (widget types and their properties)", () => {
        // "Dashboard Body Structure and Syntax" (CloudWatch API reference), the parts we use, strict.
        const alarmArn = z.string().regex(/^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.+$/);
        const metricEntry = z
            .array(
                z.union([
                    z.string(),
                    z.strictObject({
                        expression: z.string().optional(),
                        id: z.string().optional(),
                        label: z.string().optional(),
                        stat: z.string().optional(),
                        visible: z.boolean().optional(),
                    }),
                ]),
            )
            .min(2);
        const place = { x: z.number().int().min(0), y: z.number().int().min(0), width: z.number().int().min(1).max(24), height: z.number().int().min(1).max(1000) };
        const metric = z.strictObject({
            ...place,
            type: z.literal("metric"),
            properties: z
                .strictObject({
                    title: z.string(),
                    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/),
                    view: z.enum(["timeSeries", "singleValue", "gauge", "bar", "pie"]),
                    stacked: z.boolean().optional(),
                    period: z.number().int().positive().optional(),
                    stat: z.enum(["Average", "Minimum", "Maximum", "Sum", "SampleCount"]).optional(),
                    metrics: z.array(metricEntry).max(100).optional(),
                    // A metric widget shows at most one alarm; without metrics it must have one.
                    annotations: z.strictObject({ alarms: z.array(alarmArn).length(1) }).optional(),
                })
                .refine((p) => p.metrics !== undefined || p.annotations?.alarms !== undefined, "a metric widget needs metrics or an alarm annotation"),
        });
        const alarm = z.strictObject({
            ...place,
            type: z.literal("alarm"),
            properties: z.strictObject({
                title: z.string(),
                alarms: z.array(alarmArn).min(1).max(100),
                sortBy: z.enum(["default", "stateUpdatedTimestamp", "timestamp"]).optional(),
            }),
        });
        const text = z.strictObject({ ...place, type: z.literal("text"), properties: z.strictObject({ markdown: z.string().min(1) }) });
        const log = z.strictObject({
            ...place,
            type: z.literal("log"),
            properties: z.strictObject({ title: z.string(), region: z.string(), view: z.enum(["table", "timeSeries", "bar", "pie"]), query: z.string().startsWith("SOURCE '") }),
        });
        const schema = z.strictObject({
            start: z.string().regex(/^-P/),
            periodOverride: z.enum(["auto", "inherit"]),
            widgets: z.array(z.discriminatedUnion("type", [metric, alarm, text, log])).max(500),
        });
        expect(schema.safeParse(body).error?.issues).toBeUndefined();
        // Not a rubber stamp: two alarms on one graph is refused.
        const bad = structuredClone(body);
        const graph = bad.widgets.find((w) => (w.properties.annotations as any)?.alarms)!;
        (graph.properties.annotations as any).alarms.push(alarmArn.parse(arn("cpu")));
        expect(schema.safeParse(bad).success).toBe(false);
    });

    it("queries the server log group in a log widget", () => {
        const log = body.widgets.find((w) => w.type === "log")!;
        expect(log.properties.query).toContain("SOURCE '/inner-universe/prod/host'");
    });
});
