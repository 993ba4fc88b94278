import type { Route } from "../../render/routes";

/**
 * The route matrix (infra/render/routes.ts, the same one Caddy renders) as ALB listener rules.
 * ALB limits: path patterns are wildcards, not regexes, and a rule holds at most five condition
 * values in total, so CIDR lists are split across rules. Anything no rule matches falls through
 * to the listener's fixed 404.
 */
export const ALB_MAX_CONDITION_VALUES = 5;

export type AuthCondition = { header: string; value: string } | { queryKey: string; value: string };

export interface AlbRule {
    priority: number;
    route: string;
    pathPatterns: string[];
    methods: string[];
    sourceIps?: string[];
    auth?: AuthCondition;
    /** forward to the host, or answer 401 like Caddy does for anonymous requests. */
    action: "forward" | "deny401";
}

export interface AlbRuleOptions {
    deployCidrs: string[];
    authRequired: boolean;
    firstPriority?: number;
}

const BEARER: AuthCondition = { header: "Authorization", value: "Bearer *" };
const TOKEN_QUERY: AuthCondition = { queryKey: "token", value: "*" };

export function albRules(routes: Route[], o: AlbRuleOptions): AlbRule[] {
    const out: Omit<AlbRule, "priority">[] = [];
    for (const r of routes) {
        const pathPatterns = [albPathPattern(r.pathRegex)];
        const gated = o.authRequired && r.needsAuth;
        const authVariants: (AuthCondition | undefined)[] = gated ? [BEARER, TOKEN_QUERY] : [undefined];
        const fixedValues = pathPatterns.length + r.methods.length + (gated ? 1 : 0);
        const sourceSets: (string[] | undefined)[] = r.access === "deploy" ? chunk(o.deployCidrs, ALB_MAX_CONDITION_VALUES - fixedValues) : [undefined];
        if (r.access === "deploy" && o.deployCidrs.length === 0) continue;
        for (const sourceIps of sourceSets) {
            for (const auth of authVariants) {
                out.push({ route: r.name, pathPatterns, methods: r.methods, ...(sourceIps ? { sourceIps } : {}), ...(auth ? { auth } : {}), action: "forward" });
            }
            if (gated) out.push({ route: r.name, pathPatterns, methods: r.methods, ...(sourceIps ? { sourceIps } : {}), action: "deny401" });
        }
    }
    const first = o.firstPriority ?? 100;
    return out.map((rule, i) => ({ ...rule, priority: first + i }));
}

/** `^/v1/database/[^/]+/subscribe$` → `/v1/database/*\/subscribe`. Refuses regex it cannot express. */
export function albPathPattern(regex: string): string {
    const body = regex.replace(/^\^/, "").replace(/\$$/, "").replace(/\[\^\/\]\+/g, "*");
    const unescaped = body.replace(/\\(.)/g, "$1");
    if (/[\^$[\](){}|+\\]/.test(body.replace(/\\./g, ""))) throw new Error(`cannot express ${regex} as an ALB path pattern`);
    if (unescaped.length > 128) throw new Error(`ALB path patterns are at most 128 characters: ${unescaped}`);
    return unescaped;
}

export function conditionValueCount(rule: AlbRule): number {
    return rule.pathPatterns.length + rule.methods.length + (rule.sourceIps?.length ?? 0) + (rule.auth ? 1 : 0);
}

export interface AlbRequest {
    method: string;
    path: string;
    sourceIp: string;
    authorization?: string;
    token?: string;
}

/** Evaluates rules as the ALB does (lowest priority first, first match wins, else the default 404). */
export function albDecide(rules: AlbRule[], req: AlbRequest): "forward" | 401 | 404 {
    for (const rule of [...rules].sort((a, b) => a.priority - b.priority)) {
        if (!rule.methods.includes(req.method)) continue;
        if (!rule.pathPatterns.some((p) => wildcardMatch(p, req.path))) continue;
        if (rule.sourceIps && !rule.sourceIps.some((c) => ipInCidr(req.sourceIp, c))) continue;
        if (rule.auth && "header" in rule.auth && !(req.authorization !== undefined && wildcardMatch(rule.auth.value.toLowerCase(), req.authorization.toLowerCase()))) continue;
        if (rule.auth && "queryKey" in rule.auth && req.token === undefined) continue;
        return rule.action === "forward" ? "forward" : 401;
    }
    return 404;
}

function wildcardMatch(pattern: string, value: string): boolean {
    const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    return new RegExp(`^${re}$`).test(value);
}

export function ipInCidr(ip: string, cidr: string): boolean {
    const [net, bits] = cidr.split("/");
    const toInt = (a: string) => a.split(".").reduce((n, o) => n * 256 + Number(o), 0);
    const size = 2 ** (32 - Number(bits));
    return Math.floor(toInt(ip) / size) === Math.floor(toInt(net ?? "") / size);
}

function chunk<T>(items: T[], size: number): T[][] {
    if (size < 1) throw new Error("no room for source-ip values in an ALB rule");
    const out: T[][] = [];
    for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
    return out;
}
