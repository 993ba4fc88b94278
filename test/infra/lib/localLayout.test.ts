import { describe, expect, it } from "vitest";
import { caddyCaRoot, daemonFiles, stackLayout } from "../../../infra/lib/localLayout";

// The layout users find on disk under local.state_dir; the ctl scripts only receive these paths.
describe("a local stack's layout", () => {
    it.each([
        [".iu/dev", { rootDir: ".iu/dev/stdb", proxyDir: ".iu/dev/caddy" }],
        ["/tmp/s/eph-1", { rootDir: "/tmp/s/eph-1/stdb", proxyDir: "/tmp/s/eph-1/caddy" }],
    ])("%s", (stackDir, layout) => expect(stackLayout(stackDir)).toEqual(layout));

    it("puts a daemon's pid, log and fingerprint beside its state dir, never inside it", () => {
        const f = daemonFiles(".iu/dev/stdb");
        expect(f).toEqual({ pid: ".iu/dev/stdb.pid", log: ".iu/dev/stdb.log", fingerprint: ".iu/dev/stdb.fingerprint" });
        for (const p of Object.values(f)) expect(p.startsWith(".iu/dev/stdb/")).toBe(false);
    });

    it("finds Caddy's internal CA root where Caddy writes it under its data home", () => {
        expect(caddyCaRoot(".iu/dev/caddy/data")).toBe(".iu/dev/caddy/data/caddy/pki/authorities/local/root.crt");
    });
});
