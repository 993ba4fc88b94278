import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { hostFiles } from "../../../infra/aws/render/cloudInit";
import {
    emittedStdbMetric,
    PROMETHEUS_JOB,
    PROMETHEUS_SCRAPE_PATH,
    renderCwAgentConfig,
    renderPrometheusScrapeConfig,
    STDB_DIMENSION,
    STDB_NAMESPACE,
    STDB_SERIES,
} from "../../../infra/aws/render/cwAgentConfig";
import { specs } from "../../support/awsSpecs";

/**
 * The agent's configuration file as AWS documents it ("Manually create or edit the CloudWatch agent
 * configuration file" and "Set up and configure Prometheus metrics collection on Amazon EC2
 * instances"), written down as strict zod objects: a key the agent does not document, a wrong type
 * or an undocumented placeholder fails here instead of on the host. Only the parts we use are
 * modelled; strictness means using a new part requires modelling it from the docs first. The
 * shapes were cross-checked by hand against the agent's own validator schema
 * (aws/amazon-cloudwatch-agent translator/config/schema.json: prometheus takes cluster_name,
 * log_group_name, prometheus_config_path, emf_processor, with additionalProperties false); this is
 * no copy of it and is stricter where the docs are (units, placeholders, matcher arity).
 */
const METRIC_DATUM_UNITS = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
] as const;
const AWS_PLACEHOLDERS = ["${aws:ImageId}", "${aws:InstanceId}", "${aws:InstanceType}", "${aws:AutoScalingGroupName}"] as const;
const regex = z.string().refine((r) => {
    try {
        new RegExp(r);
        return true;
    } catch {
        return false;
    }
}, "not a regular expression");

const prometheusSchema = z.strictObject({
    cluster_name: z.string().optional(),
    log_group_name: z.string().min(1).max(512),
    prometheus_config_path: z.string().startsWith("/"),
    emf_processor: z.strictObject({
        metric_declaration_dedup: z.boolean().optional(),
        metric_namespace: z.string().min(1).max(255).optional(),
        metric_unit: z.record(z.string(), z.enum(METRIC_DATUM_UNITS)).optional(),
        metric_declaration: z
            .array(
                z
                    .strictObject({
                        source_labels: z.array(z.string().min(1)).min(1),
                        label_matcher: regex,
                        // CloudWatch allows at most 30 dimensions per metric.
                        dimensions: z.array(z.array(z.string().min(1)).min(1).max(30)).min(1),
                        metric_selectors: z.array(regex).min(1),
                    })
                    .refine((d) => d.label_matcher.split(";").length === d.source_labels.length, "label_matcher must have one ;-separated part per source label"),
            )
            .min(1),
    }),
});

export const agentConfigSchema = z.strictObject({
    agent: z.strictObject({
        metrics_collection_interval: z.number().int().positive().optional(),
        omit_hostname: z.boolean().optional(),
        region: z.string().optional(),
        run_as_user: z.string().optional(),
        debug: z.boolean().optional(),
        logfile: z.string().optional(),
    }),
    metrics: z.strictObject({
        namespace: z.string().min(1).max(255).optional(),
        append_dimensions: z.partialRecord(z.enum(["ImageId", "InstanceId", "InstanceType", "AutoScalingGroupName"]), z.enum(AWS_PLACEHOLDERS)).optional(),
        aggregation_dimensions: z.array(z.array(z.string())).optional(),
        metrics_collected: z.strictObject({
            mem: z.strictObject({ measurement: z.array(z.string().regex(/^(mem_)?[a-z_]+$/)).min(1), metrics_collection_interval: z.number().optional() }).optional(),
            disk: z
                .strictObject({
                    resources: z.array(z.string()).min(1),
                    measurement: z.array(z.string()).min(1),
                    drop_device: z.boolean().optional(),
                    ignore_file_system_types: z.array(z.string()).optional(),
                    metrics_collection_interval: z.number().optional(),
                })
                .optional(),
        }),
    }),
    logs: z.strictObject({
        logs_collected: z.strictObject({
            files: z.strictObject({
                collect_list: z
                    .array(
                        z.strictObject({
                            file_path: z.string().startsWith("/"),
                            log_group_name: z.string().min(1).max(512),
                            log_stream_name: z
                                .string()
                                .refine(
                                    (s) => [...s.matchAll(/\{([^}]*)\}/g)].every((m) => ["instance_id", "hostname", "ip_address", "local_hostname"].includes(m[1]!)),
                                    "undocumented placeholder",
                                )
                                .optional(),
                            timezone: z.enum(["Local", "LOCAL", "UTC"]).optional(),
                            retention_in_days: z.number().optional(),
                        }),
                    )
                    .min(1),
            }),
        }),
        metrics_collected: z.strictObject({ prometheus: prometheusSchema }).optional(),
        force_flush_interval: z.number().optional(),
    }),
});

const config = renderCwAgentConfig({
    mount: "/stdb",
    logGroupName: "/inner-universe/prod/host",
    caddyAccessLog: true,
    prometheus: { logGroupName: "/inner-universe/prod/prometheus", environment: "prod" },
});

describe("the rendered agent config against the documented shape", () => {
    it("validates, with and without the Prometheus input", () => {
        expect(agentConfigSchema.safeParse(config).error?.issues).toBeUndefined();
        const plain = renderCwAgentConfig({ mount: "/stdb", logGroupName: "/g", caddyAccessLog: false });
        expect(agentConfigSchema.safeParse(plain).error?.issues).toBeUndefined();
        expect(plain.logs.metrics_collected).toBeUndefined();
    });

    it("the schema is not a rubber stamp: it rejects what the agent does not document", () => {
        const bad = structuredClone(config) as any;
        bad.logs.metrics_collected.prometheus.emf_processor.metric_unit.spacetime_worker_connected_clients = "Clients";
        expect(agentConfigSchema.safeParse(bad).success).toBe(false);
        const extra = structuredClone(config) as any;
        extra.logs.metrics_collected.prometheus.scrape_interval = "1m";
        expect(agentConfigSchema.safeParse(extra).success).toBe(false);
        const matcher = structuredClone(config) as any;
        matcher.logs.metrics_collected.prometheus.emf_processor.metric_declaration[1].source_labels = ["job"];
        expect(agentConfigSchema.safeParse(matcher).success).toBe(false);
    });

    it("selects every chosen series exactly once, by an anchored selector, with its unit", () => {
        const prom = config.logs.metrics_collected!.prometheus;
        for (const s of STDB_SERIES) {
            const selecting = prom.emf_processor.metric_declaration.filter((d) => d.metric_selectors.some((sel) => new RegExp(sel).test(s.name)));
            expect(selecting, s.name).toHaveLength(1);
            expect(prom.emf_processor.metric_unit[s.name]).toBe(s.unit);
            // Anchored: a longer series name (a histogram's _bucket, say) is not selected by accident.
            expect(selecting[0]!.metric_selectors.some((sel) => new RegExp(sel).test(`${s.name}_bucket`))).toBe(false);
        }
        expect(prom.emf_processor.metric_namespace).toBe(STDB_NAMESPACE);
        expect(prom.prometheus_config_path).toBe(PROMETHEUS_SCRAPE_PATH);
    });

    it("filters a labelled series by the label the declaration matches on", () => {
        const decl = config.logs.metrics_collected!.prometheus.emf_processor.metric_declaration.find((d) => d.metric_selectors[0] === "^spacetime_num_txns_total$")!;
        expect(decl.source_labels).toEqual(["job", "txn_type"]);
        expect(new RegExp(decl.label_matcher).test(`${PROMETHEUS_JOB};Reducer`)).toBe(true);
        expect(new RegExp(decl.label_matcher).test(`${PROMETHEUS_JOB};Sql`)).toBe(false);
    });

    it("names each emitted metric by the declaration's dimension, and refuses a series it does not ship", () => {
        expect(emittedStdbMetric(config, "spacetime_worker_connected_clients", "prod")).toEqual({
            namespace: STDB_NAMESPACE,
            metricName: "spacetime_worker_connected_clients",
            dimensions: { [STDB_DIMENSION]: "prod" },
        });
        expect(() => emittedStdbMetric(config, "spacetime_reducer_plus_query_duration_sec", "prod")).toThrow(/not selected/);
        const plain = renderCwAgentConfig({ mount: "/stdb", logGroupName: "/g", caddyAccessLog: false });
        expect(() => emittedStdbMetric(plain, "spacetime_worker_connected_clients", "prod")).toThrow(/scrapes no Prometheus/);
    });
});

describe("the Prometheus scrape config", () => {
    const scrape = parse(renderPrometheusScrapeConfig({ port: 3000, environment: "prod" }));

    it("scrapes the loopback server's /v1/metrics under the job the declarations match, labelled with the environment", () => {
        expect(scrape).toEqual({
            scrape_configs: [
                {
                    job_name: PROMETHEUS_JOB,
                    metrics_path: "/v1/metrics",
                    scrape_interval: "1m",
                    scrape_timeout: "10s",
                    static_configs: [{ targets: ["127.0.0.1:3000"], labels: { [STDB_DIMENSION]: "prod" } }],
                },
            ],
        });
    });

    it("is a file cloud-init writes on every host, at the path the agent config names, with the server's port", () => {
        for (const [name, spec] of Object.entries(specs)) {
            const file = hostFiles(spec).find((f) => f.path === PROMETHEUS_SCRAPE_PATH);
            expect(file, name).toBeDefined();
            expect(parse(file!.content).scrape_configs[0].static_configs[0]).toEqual({
                targets: [`127.0.0.1:${spec.server.port}`],
                labels: { [STDB_DIMENSION]: spec.environment },
            });
        }
    });

    it("quotes an environment that YAML would otherwise read as something else", () => {
        expect(parse(renderPrometheusScrapeConfig({ port: 1, environment: "yes" })).scrape_configs[0].static_configs[0].labels[STDB_DIMENSION]).toBe("yes");
    });
});
