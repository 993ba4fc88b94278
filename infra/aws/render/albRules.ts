import type { Route } from "../../render/routes";
import { ipInCidr } from "./cidr";

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
    /** Stable name of the rule: route and variant, so adding a route never renames another's rules. */
    key: string;
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
}

/**
 * Each route owns a fixed block of 100 priorities, in the matrix's order (public before deploy, as
 * Caddy evaluates them). Exposing call/sql or changing deploy CIDRs then only touches that route's
 * rules: ALB refuses two rules with one priority, so shifting every priority would collide mid-update.
 */
export const ROUTE_PRIORITY_BLOCKS: Readonly<Record<string, number>> = {
    ping: 1,
    identity: 2,
    ws_token: 3,
    subscribe: 4,
    call: 5,
    sql: 6,
    publish: 7,
    settings: 8,
    verify_sql: 9,
};

const BEARER: AuthCondition = { header: "Authorization", value: "Bearer *" };
const TOKEN_QUERY: AuthCondition = { queryKey: "token", value: "*" };

export function albRules(routes: Route[], o: AlbRuleOptions): AlbRule[] {
    const out: AlbRule[] = [];
    for (const r of routes) {
        const block = ROUTE_PRIORITY_BLOCKS[r.name];
        if (block === undefined) throw new Error(`route ${r.name} has no ALB priority block; add it to ROUTE_PRIORITY_BLOCKS`);
        if (r.access === "deploy" && o.deployCidrs.length === 0) continue;
        const pathPatterns = [albPathPattern(r.pathRegex)];
        const gated = o.authRequired && r.needsAuth;
        const authVariants: (AuthCondition | undefined)[] = gated ? [BEARER, TOKEN_QUERY] : [undefined];
        const fixedValues = pathPatterns.length + r.methods.length + (gated ? 1 : 0);
        const sourceSets: (string[] | undefined)[] = r.access === "deploy" ? chunk(o.deployCidrs, ALB_MAX_CONDITION_VALUES - fixedValues) : [undefined];
        const variants: Omit<AlbRule, "priority" | "key">[] = [];
        for (const sourceIps of sourceSets) {
            for (const auth of authVariants) {
                variants.push({ route: r.name, pathPatterns, methods: r.methods, ...(sourceIps ? { sourceIps } : {}), ...(auth ? { auth } : {}), action: "forward" });
            }
            if (gated) variants.push({ route: r.name, pathPatterns, methods: r.methods, ...(sourceIps ? { sourceIps } : {}), action: "deny401" });
        }
        if (variants.length > 99) throw new Error(`route ${r.name} needs ${variants.length} ALB rules; its block holds 99`);
        for (const [i, v] of variants.entries()) out.push({ ...v, key: `${r.name}-${i}`, priority: block * 100 + i });
    }
    return out;
}

/** `^/v1/database/[^/]+/subscribe$` → `/v1/database/*\/subscribe`. Refuses regex it cannot express. */
export function albPathPattern(regex: string): string {
    const body = regex
        .replace(/^\^/, "")
        .replace(/\$$/, "")
        .replace(/\[\^\/\]\+/g, "*");
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
    const re = pattern
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".");
    return new RegExp(`^${re}$`).test(value);
}

function chunk<T>(items: T[], size: number): T[][] {
    if (size < 1) throw new Error("no room for source-ip values in an ALB rule");
    const out: T[][] = [];
    for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
    return out;
}
