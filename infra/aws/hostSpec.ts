import type { StackConfigFor } from "../config/load";
import type { HostSpec } from "./render/cloudInit";

/** Name of the SSM parameter holding the agent config: CloudWatchAgentServerPolicy only reads `AmazonCloudWatch-*`. */
export function cwAgentParameterName(cfg: StackConfigFor<"aws">): string {
    return `AmazonCloudWatch-inner-universe-${cfg.stack}`;
}

/** Everything the host renders, from config plus the one value known only at deploy time. */
export function hostSpec(cfg: StackConfigFor<"aws">, volumeId: string): HostSpec {
    const a = cfg.aws;
    const acme = cfg.tls.mode !== "alb";
    if (acme && (!a.caddy_binary || !cfg.tls.domain || !cfg.tls.email))
        throw new Error("acme mode needs aws.caddy_binary, tls.domain and tls.email (checked by the config schema)");
    const front: HostSpec["front"] = !acme
        ? { mode: "alb" }
        : {
              mode: "acme",
              caddy: a.caddy_binary!,
              domain: cfg.tls.domain!,
              email: cfg.tls.email!,
              ...(cfg.tls.acme_ca ? { acmeCa: cfg.tls.acme_ca } : {}),
              deployCidrs: a.deploy_cidrs,
              database: cfg.spacetimedb.database,
              exposeCall: cfg.tls.expose_call,
              exposeSql: cfg.tls.expose_sql,
              authRequired: cfg.server.auth_required,
              timeoutMs: cfg.server.timeout_ms,
          };
    if (a.instance.os === "debian" && !a.cloudwatch_agent_deb) throw new Error("instance.os debian needs aws.cloudwatch_agent_deb (checked by the config schema)");
    return {
        environment: cfg.environment,
        os: a.instance.os,
        ...(a.instance.os === "debian" ? { cwAgentDeb: a.cloudwatch_agent_deb! } : {}),
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
