import { type AwsConfig, awsSchema, awsStackProblems } from "../config/aws";
import { ConfigError, keyPath } from "../config/errors";
import type { StackConfigFor } from "../config/load";
import type { HostSpec } from "./render/cloudInit";

/** The host's front and agent, as the aws rules guarantee them (checkAwsServerConfig). */
export interface CheckedAws {
    domain: string;
    front: { mode: "alb" } | { mode: "acme"; caddy: NonNullable<AwsConfig["caddy_binary"]>; email: string };
    /** instance.os debian: the agent's .deb (Debian has no package for it). */
    cwAgentDeb?: NonNullable<AwsConfig["cloudwatch_agent_deb"]>;
}

/**
 * The schema's aws rules (the section's own, then those between sections) again, at component
 * time: a config built by hand (not parsed) must still leave nothing half-built. Throws a
 * ConfigError naming each key. What the rules guarantee comes back typed, so nothing downstream
 * checks it again.
 */
export function checkAwsServerConfig(cfg: StackConfigFor<"aws">): CheckedAws {
    const section = awsSchema.safeParse(cfg.aws);
    const problems = [
        ...(section.success ? [] : section.error.issues.map((i) => `${keyPath(["aws", ...i.path])}: ${i.message}`)),
        ...awsStackProblems(cfg.aws, cfg).map((p) => `${keyPath(p.path)}: ${p.message}`),
    ];
    if (problems.length > 0) throw new ConfigError(problems);
    const a = cfg.aws;
    // Non-null: awsStackProblems requires caddy_binary for acme; awsSchema the agent's .deb for debian.
    return {
        domain: cfg.tls.domain,
        front: cfg.tls.mode === "alb" ? { mode: "alb" } : { mode: "acme", caddy: a.caddy_binary!, email: cfg.tls.email },
        ...(a.instance.os === "debian" ? { cwAgentDeb: a.cloudwatch_agent_deb! } : {}),
    };
}

/** Name of the SSM parameter holding the agent config: CloudWatchAgentServerPolicy only reads `AmazonCloudWatch-*`. */
export function cwAgentParameterName(cfg: StackConfigFor<"aws">): string {
    return `AmazonCloudWatch-inner-universe-${cfg.stack}`;
}

/** Everything the host renders, from config plus the one value known only at deploy time. */
export function hostSpec(cfg: StackConfigFor<"aws">, volumeId: string, checked: CheckedAws = checkAwsServerConfig(cfg)): HostSpec {
    const a = cfg.aws;
    const f = checked.front;
    const front: HostSpec["front"] =
        f.mode === "alb"
            ? { mode: "alb" }
            : {
                  mode: "acme",
                  caddy: f.caddy,
                  domain: checked.domain,
                  email: f.email,
                  ...(cfg.tls.acme_ca ? { acmeCa: cfg.tls.acme_ca } : {}),
                  deployCidrs: a.deploy_cidrs,
                  database: cfg.spacetimedb.database,
                  exposeCall: cfg.tls.expose_call,
                  exposeSql: cfg.tls.expose_sql,
                  authRequired: cfg.server.auth_required,
                  timeoutMs: cfg.server.timeout_ms,
              };
    return {
        environment: cfg.environment,
        os: a.instance.os,
        ...(checked.cwAgentDeb ? { cwAgentDeb: checked.cwAgentDeb } : {}),
        volumeId,
        rootDir: cfg.spacetimedb.root_dir,
        server: {
            version: cfg.spacetimedb.version,
            port: cfg.spacetimedb.port,
            url: a.server_binary.url,
            sha256: a.server_binary.sha256,
            command: a.server_binary.command,
        },
        cwAgentParameter: cwAgentParameterName(cfg),
        maxConnections: cfg.server.max_connections,
        front,
    };
}
