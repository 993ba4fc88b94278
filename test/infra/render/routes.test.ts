import { describe, expect, it } from "vitest";
import { decide, routeMatrix } from "../../../infra/render/routes";

const base = { database: "inner-universe", exposeCall: false, exposeSql: false };

describe("public route matrix", () => {
    const cases: [string, string, boolean, ReturnType<typeof decide>][] = [
        ["GET", "/v1/ping", false, "public"],
        ["HEAD", "/v1/ping", false, "public"],
        ["POST", "/v1/identity", false, "public"],
        ["POST", "/v1/identity/websocket-token", false, "public"],
        ["GET", "/v1/database/inner-universe/subscribe", false, "public"],
        ["GET", "/v1/database/other/subscribe", false, "public"],
        ["POST", "/v1/database/inner-universe/call/set_config", false, "deny"],
        ["POST", "/v1/database/inner-universe/sql", false, "deny"],
        ["GET", "/v1/metrics", true, "deny"],
        ["GET", "/v1/prometheus/metrics", true, "deny"],
        ["GET", "/internal/database", true, "deny"],
        ["POST", "/v1/database", true, "deny"],
        ["DELETE", "/v1/database/inner-universe", true, "deny"],
        ["PUT", "/v1/database/inner-universe", false, "deny"],
        ["PUT", "/v1/database/inner-universe", true, "deploy"],
        ["POST", "/v1/database/inner-universe", true, "deploy"],
        ["PUT", "/v1/database/someone-else", true, "deny"],
        ["POST", "/v1/database/inner-universe/call/set_config", true, "deploy"],
        ["POST", "/v1/database/inner-universe/call/grant_admin", true, "deny"],
        ["POST", "/v1/database/inner-universe/sql", true, "deploy"],
        ["GET", "/v1/database/inner-universe/subscribe/../../metrics", false, "deny"],
        ["GET", "/v1/pingx", false, "deny"],
    ];
    it.each(cases)("%s %s (deploy CIDR: %s) → %s", (method, path, fromDeploy, want) => {
        expect(decide(routeMatrix(base), method, path, fromDeploy)).toBe(want);
    });

    it("call and sql become public only when configured", () => {
        const open = routeMatrix({ ...base, exposeCall: true, exposeSql: true });
        expect(decide(open, "POST", "/v1/database/inner-universe/call/create_entity", false)).toBe("public");
        expect(decide(open, "POST", "/v1/database/inner-universe/sql", false)).toBe("public");
        expect(decide(open, "GET", "/v1/metrics", false)).toBe("deny");
    });

    it("escapes the database name in deploy routes", () => {
        expect(decide(routeMatrix({ ...base, database: "a-b" }), "PUT", "/v1/database/aXb", true)).toBe("deny");
    });
});
