import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../../infra/config";
import { fakeModuleBuilder, localSteps } from "../../support/fakeSteps";
import { installHarness, output } from "../../support/harness";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../../support/paths";
import { stackFileConfig } from "../../support/stackFiles";

/** The `backup` stack output that `npm run backup` reads: where each runtime keeps its root (Pulumi mocks). */
describe("the backup output names the stack's server root from its config", () => {
    it("dev (local): the configured root dir and a backup dir beside it, both project-relative", async () => {
        const harness = await installHarness("dev", localSteps);
        const { buildStack } = await import("../../../infra/program");
        const cfg = parseStackConfig(
            { ...stackFileConfig("dev"), spacetimedb: { port: 3000, root_dir: "data/dev-root" }, local: { state_dir: "var/iu" } },
            { stack: "dev", projectRoot: ROOT },
        );
        const outputs = await harness.run(() => buildStack({ cfg }, { buildModule: fakeModuleBuilder }));
        const b = await output(outputs.backup);
        expect(b).toEqual({
            runtime: "local",
            stack: "dev",
            database: "inner-universe",
            adminUrl: "http://127.0.0.1:3000",
            rootDir: "data/dev-root",
            backupDir: "var/iu/backups/dev",
        });
        expect(JSON.stringify(b)).not.toContain(ROOT);
    });
    // test (docker): asserted where it is used, test/e2e/backupContainer.test.ts (mocks keep global state: one stack per file).
});
