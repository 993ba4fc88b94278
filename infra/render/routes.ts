/**
 * The public route matrix: which SpacetimeDB HTTP routes a TLS front (Caddy or an ALB) forwards.
 * Everything not listed is refused, so new server routes stay private until someone decides.
 * SpacetimeDB has no allow-list of its own: anyone who reaches /v1/database can create
 * databases, /v1/metrics is unauthenticated and /internal/* is open.
 */
export type Access = "public" | "deploy";

export interface Route {
    name: string;
    methods: string[];
    /** Anchored regular expression over the request path. */
    pathRegex: string;
    access: Access;
    /** Needs a bearer token (header or ?token=) when auth is required. */
    needsAuth: boolean;
}

export interface RouteOptions {
    database: string;
    exposeCall: boolean;
    exposeSql: boolean;
}

const DB = "[^/]+";
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export function routeMatrix(opts: RouteOptions): Route[] {
    const db = esc(opts.database);
    const routes: Route[] = [
        { name: "ping", methods: ["GET", "HEAD"], pathRegex: "^/v1/ping$", access: "public", needsAuth: false },
        { name: "identity", methods: ["POST"], pathRegex: "^/v1/identity$", access: "public", needsAuth: false },
        { name: "ws_token", methods: ["POST"], pathRegex: "^/v1/identity/websocket-token$", access: "public", needsAuth: true },
        { name: "subscribe", methods: ["GET"], pathRegex: `^/v1/database/${DB}/subscribe$`, access: "public", needsAuth: true },
    ];
    if (opts.exposeCall) {
        routes.push({ name: "call", methods: ["POST"], pathRegex: `^/v1/database/${DB}/call/[^/]+$`, access: "public", needsAuth: true });
    }
    if (opts.exposeSql) {
        routes.push({ name: "sql", methods: ["POST"], pathRegex: `^/v1/database/${DB}/sql$`, access: "public", needsAuth: true });
    }
    // What the deploy pipeline needs, and only for our database: publish, settings sync, readiness SQL.
    routes.push(
        { name: "publish", methods: ["PUT", "POST"], pathRegex: `^/v1/database/${db}$`, access: "deploy", needsAuth: true },
        { name: "settings", methods: ["POST"], pathRegex: `^/v1/database/${db}/call/set_config$`, access: "deploy", needsAuth: true },
        { name: "verify_sql", methods: ["POST"], pathRegex: `^/v1/database/${db}/sql$`, access: "deploy", needsAuth: true },
    );
    return routes;
}

/** Decides a request the way the rendered proxy config does; tests hold both to the same table. */
export function decide(routes: Route[], method: string, path: string, fromDeployCidr: boolean): Access | "deny" {
    for (const r of routes) {
        if (!r.methods.includes(method.toUpperCase()) || !new RegExp(r.pathRegex).test(path)) continue;
        if (r.access === "public") return "public";
        if (fromDeployCidr) return "deploy";
    }
    return "deny";
}
