import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { hostFiles } from "../../../infra/aws/render/cloudInit";
import { specs } from "../../support/awsSpecs";
import { parseExposure, unitExposure } from "../../support/systemdSecurity";

/**
 * Every service the prod host runs from the user data, scored by systemd's own measure
 * (`systemd-analyze security --offline=true`, systemd 252 here): at most 2.0 each (docs/aws.md,
 * "Host"). What each unit leaves open is justified next to it in infra/aws/render/systemdUnit.ts.
 */
const MAX_EXPOSURE = 2.0;

const services = Object.entries(specs).flatMap(([spec, s]) =>
    hostFiles(s)
        .filter((f) => f.path.startsWith("/etc/systemd/system/") && f.path.endsWith(".service"))
        .map((f) => ({ spec, name: path.posix.basename(f.path), content: f.content })),
);

describe("parseExposure", () => {
    it.each([
        ["→ Overall exposure level for caddy.service: 1.4 OK 🙂", { unit: "caddy.service", level: 1.4, verdict: "OK" }],
        ["→ Overall exposure level for spacetimedb.service: 7.0 MEDIUM 😐", { unit: "spacetimedb.service", level: 7, verdict: "MEDIUM" }],
        ["→ Overall exposure level for stdb-alb-proxy.service: 8.3 EXPOSED 🙁", { unit: "stdb-alb-proxy.service", level: 8.3, verdict: "EXPOSED" }],
        ["→ Overall exposure level for x.service: 10 UNSAFE 😨", { unit: "x.service", level: 10, verdict: "UNSAFE" }],
        [
            "  NAME  DESCRIPTION  EXPOSURE\n✗ UMask=  world-readable  0.1\n\n→ Overall exposure level for a.service: 0.9 SAFE 😀\n",
            { unit: "a.service", level: 0.9, verdict: "SAFE" },
        ],
        ["\u001b[1m→ Overall exposure level for b.service: \u001b[0;1;31m9.6 UNSAFE\u001b[0m 😨", { unit: "b.service", level: 9.6, verdict: "UNSAFE" }],
    ])("%j", (output, expected) => {
        expect(parseExposure(output)).toEqual(expected);
    });

    it.each([
        ["", "empty output"],
        ["✗ UMask=  Files created by service are world-readable by default  0.1", "a table without its summary"],
        ["Failed to load unit x.service: Invalid argument", "an error"],
    ])("throws on %j (%s)", (output) => {
        expect(() => parseExposure(output)).toThrow(/no overall exposure level/);
    });
});

describe("systemd-analyze security --offline=true", () => {
    it("scores every service of every host variant", () => {
        expect(new Set(services.map((s) => s.name))).toEqual(new Set(["spacetimedb.service", "caddy.service", "stdb-alb-proxy.service"]));
    });

    it.each(services.map((s) => [`${s.spec}: ${s.name}`, s] as const))(`%s is exposed at most ${MAX_EXPOSURE}`, (_label, s) => {
        const e = unitExposure(s.name, s.content);
        expect(e.unit).toBe(s.name);
        expect(e.level, e.output).toBeLessThanOrEqual(MAX_EXPOSURE);
    });

    it("rates an unsandboxed unit as exposed (the measure really measures)", () => {
        const e = unitExposure("bare.service", "[Service]\nExecStart=/usr/bin/true\n");
        expect(e.level).toBeGreaterThan(9);
        expect(["EXPOSED", "UNSAFE"]).toContain(e.verdict);
    });
});
