import { describe, expect, expectTypeOf, it } from "vitest";
import { ConfigError, forRuntime, parseStackConfig, type StackConfigFor } from "../../../infra/config";
import type { AwsConfig } from "../../../infra/config/aws";
import { runtimeVariants, stackConfigSchema } from "../../../infra/config/schema";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../../support/paths";
import { stackFileConfig } from "../../support/stackFiles";

/** The config the program receives is a discriminated union on runtime (infra/config/schema.ts). */
describe("config as a discriminated union on runtime", () => {
    it("types each runtime's sections: aws exactly for aws, remote exactly for remote, tls.mode narrowed", () => {
        expectTypeOf<StackConfigFor<"aws">["aws"]>().toEqualTypeOf<AwsConfig>();
        expectTypeOf<StackConfigFor<"local">["aws"]>().toEqualTypeOf<undefined>();
        expectTypeOf<StackConfigFor<"aws">["tls"]["mode"]>().toEqualTypeOf<"acme" | "alb">();
        expectTypeOf<StackConfigFor<"aws">["tls"]["domain"]>().toEqualTypeOf<string>();
        expectTypeOf<StackConfigFor<"local">["tls"]["mode"]>().toEqualTypeOf<"internal" | "acme">();
        expectTypeOf<StackConfigFor<"remote">["remote"]["url"]>().toEqualTypeOf<string>();
    });

    it.each([
        ["dev", "local"],
        ["test", "docker"],
        ["prod", "aws"],
    ] as const)("Pulumi.%s.yaml parses to the %s variant", (stack, runtime) => {
        const cfg = parseStackConfig(stackFileConfig(stack), { stack, projectRoot: ROOT });
        expect(cfg.runtime).toBe(runtime);
        expect(cfg.aws === undefined).toBe(runtime !== "aws");
        expect(forRuntime(cfg, runtime).runtime).toBe(runtime);
    });

    it("the union itself refuses a variant without its section (not only the cross-field rules)", () => {
        // The first stage's output (every section, defaults applied), as the union receives it.
        const raw = stackFileConfig("prod") as Record<string, unknown>;
        const parsed = stackConfigSchema.parse(Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === "string" && v.startsWith("{") ? JSON.parse(v) : v])));
        expect(runtimeVariants.safeParse(parsed).success).toBe(true);
        const { aws: _aws, ...withoutAws } = parsed;
        expect(runtimeVariants.safeParse(withoutAws).success).toBe(false);
        expect(runtimeVariants.safeParse({ ...parsed, runtime: "local" }).success).toBe(false);
        expect(runtimeVariants.safeParse({ ...parsed, tls: { ...parsed.tls, mode: "internal" } }).success).toBe(false);
    });

    it("forRuntime refuses another runtime, naming the key", () => {
        const dev = parseStackConfig(stackFileConfig("dev"), { stack: "dev", projectRoot: ROOT });
        expect(() => forRuntime(dev, "aws")).toThrow(ConfigError);
        expect(() => forRuntime(dev, "aws")).toThrow(/inner-universe:runtime: this needs runtime aws; stack dev has local/);
    });
});
