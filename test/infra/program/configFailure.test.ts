import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../infra/config";
import { installHarness } from "../../support/harness";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../../support/paths";

describe("invalid stack config, through the real entry point", () => {
    it("fails before any resource is registered, naming every bad key", async () => {
        const harness = await installHarness("broken");
        pulumi.runtime.setAllConfig({
            "inner-universe:runtime": "local",
            "inner-universe:spacetimedb": JSON.stringify({ port: 70000, log_level: "chatty" }),
            "inner-universe:tls": JSON.stringify({ mode: "acme" }),
        });
        const { runProgram } = await import("../../../infra/run");
        let error: unknown;
        await harness.run(() => {
            try {
                runProgram(ROOT);
            } catch (e) {
                error = e;
            }
        });
        expect(error).toBeInstanceOf(ConfigError);
        const problems = (error as ConfigError).problems;
        expect(problems.map((p) => p.split(":").slice(0, 2).join(":"))).toEqual([
            "inner-universe:spacetimedb.port",
            "inner-universe:spacetimedb.log_level",
            "inner-universe:tls.domain",
            "inner-universe:tls.email",
        ]);
        // Only the root stack resource exists: no component, no step, nothing to clean up.
        expect(harness.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
    });
});
