import { type Route, type RouteOptions, routeMatrix } from "./routes";

export interface CaddyfileOptions extends RouteOptions {
    /** Site address: a domain for acme, `https://127.0.0.1:8443` style for internal. */
    site: string;
    /** host:port of the SpacetimeDB server (loopback). */
    upstream: string;
    /** Interfaces to listen on (dev: loopback); all interfaces when undefined. */
    bind?: string[];
    /** acme: `ca` is the ACME directory (tls.acme_ca); Caddy's default (Let's Encrypt) when undefined. */
    tls: { mode: "internal" } | { mode: "acme"; email: string; ca?: string };
    /** CIDRs allowed to use deploy routes; empty means deploy routes are never proxied. */
    deployCidrs: string[];
    authRequired: boolean;
    timeoutMs: number;
    /** Where Caddy writes its access log (JSON lines); no access log when undefined. */
    accessLog?: string;
}

/**
 * Renders the Caddyfile for dev (internal CA) and prod (Let's Encrypt) from one route matrix.
 * WebSockets need no special directive in Caddy 2; long-lived subscriptions only need the
 * idle/read timeouts to not cut them.
 */
export function renderCaddyfile(o: CaddyfileOptions): string {
    const routes = routeMatrix(o).filter((r) => r.access === "public" || o.deployCidrs.length > 0);
    const lines: string[] = [];
    lines.push("{", "\tadmin off");
    // Internal mode serves one local port; the :80 redirect listener would collide between stacks.
    if (o.tls.mode === "internal") lines.push("\tskip_install_trust", "\tlocal_certs", "\tauto_https disable_redirects");
    else lines.push(`\temail ${o.tls.email}`, ...(o.tls.ca ? [`\tacme_ca ${o.tls.ca}`] : []));
    lines.push("\tservers {", "\t\ttimeouts {", "\t\t\tread_header 10s", "\t\t\tidle 10m", "\t\t}", "\t}", "}", "");
    lines.push(`${o.site} {`);
    if (o.bind) lines.push(`\tbind ${o.bind.join(" ")}`);
    if (o.tls.mode === "internal") lines.push("\ttls internal");
    if (o.accessLog) lines.push("\tlog {", `\t\toutput file ${o.accessLog}`, "\t\tformat json", "\t}");
    for (const r of routes) lines.push(...matcher(r, o.deployCidrs));
    lines.push(...handlers(routes, o));
    lines.push("}", "");
    return lines.join("\n");
}

function matcher(r: Route, deployCidrs: string[]): string[] {
    const out = [`\t@${r.name} {`, `\t\tmethod ${r.methods.join(" ")}`, `\t\tpath_regexp ${r.name} ${r.pathRegex}`];
    if (r.access === "deploy") out.push(`\t\tremote_ip ${deployCidrs.join(" ")}`);
    out.push("\t}");
    return out;
}

function handlers(routes: Route[], o: CaddyfileOptions): string[] {
    const proxy = [`\t\treverse_proxy ${o.upstream} {`, "\t\t\ttransport http {", `\t\t\t\tresponse_header_timeout ${Math.ceil(o.timeoutMs / 1000)}s`, "\t\t\t}", "\t\t}"];
    const out: string[] = [];
    for (const r of routes) {
        out.push(`\thandle @${r.name} {`);
        if (o.authRequired && r.needsAuth) {
            out.push("\t\t@anonymous {", '\t\t\tnot header Authorization "Bearer *"', "\t\t\tnot query token=*", "\t\t}");
            out.push('\t\trespond @anonymous "authorization required" 401');
        }
        if (r.name === "publish") out.push("\t\trequest_body {", "\t\t\tmax_size 64MB", "\t\t}");
        out.push(...proxy, "\t}");
    }
    out.push("\thandle {", '\t\trespond "not found" 404', "\t}");
    return out;
}
