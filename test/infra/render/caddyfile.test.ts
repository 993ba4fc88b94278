import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { type CaddyfileOptions, renderCaddyfile } from "../../../infra/render/caddyfile";

const dev: CaddyfileOptions = {
    site: "https://127.0.0.1:8443, https://localhost:8443",
    bind: ["127.0.0.1"],
    upstream: "127.0.0.1:3000",
    tls: { mode: "internal" },
    deployCidrs: [],
    authRequired: true,
    timeoutMs: 30_000,
    database: "inner-universe",
    exposeCall: false,
    exposeSql: false,
};
const prod: CaddyfileOptions = { ...dev, site: "db.example.com", bind: undefined, tls: { mode: "acme", email: "ops@example.com" }, deployCidrs: ["203.0.113.0/24"] };

/** `caddy validate` from Debian's caddy: the real parser and adapter, not a regex. */
function caddyValidate(text: string): { ok: boolean; out: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "caddy-"));
    const file = path.join(dir, "Caddyfile");
    fs.writeFileSync(file, text);
    const r = spawnSync("caddy", ["validate", "--adapter", "caddyfile", "--config", file], {
        encoding: "utf8",
        env: { ...process.env, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir, HOME: dir },
    });
    fs.rmSync(dir, { recursive: true, force: true });
    if (r.error) throw new Error(`caddy is not installed (toolchain/setup-tools.sh installs it): ${r.error.message}`);
    return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

describe("Caddyfile renderer", () => {
    it.each([
        ["dev (internal CA)", dev],
        ["prod (Let's Encrypt, deploy CIDR)", prod],
        ["dev with call and sql exposed, no auth", { ...dev, exposeCall: true, exposeSql: true, authRequired: false }],
    ])("%s passes caddy validate", (_name, opts) => {
        const { ok, out } = caddyValidate(renderCaddyfile(opts));
        expect(ok, out).toBe(true);
    });

    it("the validator really rejects a broken file", () => {
        expect(caddyValidate(renderCaddyfile(dev).replace("reverse_proxy", "reverse_proxxy")).ok).toBe(false);
    });

    it("dev: internal CA, loopback bind, no :80 redirect listener, no deploy routes", () => {
        const text = renderCaddyfile(dev);
        expect(text).toMatch(/tls internal/);
        expect(text).toMatch(/bind 127\.0\.0\.1/);
        expect(text).toMatch(/auto_https disable_redirects/);
        expect(text).not.toMatch(/remote_ip|@publish/);
        expect(text).toMatch(/respond "not found" 404/);
    });

    it("prod: ACME e-mail, publish routes only from the deploy CIDRs", () => {
        const text = renderCaddyfile(prod);
        expect(text).toMatch(/email ops@example\.com/);
        expect(text).not.toMatch(/tls internal|bind /);
        const publish = text.slice(text.indexOf("@publish {"), text.indexOf("}", text.indexOf("@publish {")));
        expect(publish).toContain("remote_ip 203.0.113.0/24");
        expect(publish).toContain("method PUT POST");
    });

    it("requires a token on database routes when auth is required", () => {
        const text = renderCaddyfile(dev);
        const subscribe = text.slice(text.indexOf("handle @subscribe"), text.indexOf("handle @", text.indexOf("handle @subscribe") + 5));
        expect(subscribe).toContain('respond @anonymous "authorization required" 401');
        const ping = text.slice(text.indexOf("handle @ping"), text.indexOf("handle @", text.indexOf("handle @ping") + 5));
        expect(ping).not.toContain("401");
    });
});
