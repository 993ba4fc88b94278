import { describe, expect, it } from "vitest";
import { createSnapshotRequest } from "../../../infra/aws/snapshot";
import { installAwsMocks, output } from "../../support/awsMocks";
import { prodConfig } from "../../support/awsStack";
import { fakeModuleBuilder } from "../../support/fakeSteps";

/** The prod program's `backup` output (AWS mocks) is what the on-demand snapshot request is built from. */
describe("prod backup output", () => {
    it("names the data volume and region; the CreateSnapshot request built from it targets that volume", async () => {
        const cfg = prodConfig();
        const mocks = await installAwsMocks("prod", { region: cfg.aws!.region });
        const { buildStack } = await import("../../../infra/program");
        const outputs = buildStack({ cfg }, { buildModule: fakeModuleBuilder });
        const b = await output(outputs.backup);
        await mocks.settle();
        expect(mocks.resources.some((r) => r.type === "aws:ebs/volume:Volume")).toBe(true);
        expect(b).toMatchObject({ runtime: "aws", stack: "prod", rootDir: "/stdb", region: cfg.aws!.region, database: cfg.spacetimedb.database });
        expect(b.dataVolumeId).toMatch(/^vol-[0-9a-f]+$/);
        const req = createSnapshotRequest({ stack: b.stack, region: b.region!, volumeId: b.dataVolumeId!, now: new Date(0) });
        expect(req).toMatchObject({ VolumeId: b.dataVolumeId, Region: cfg.aws!.region });
    });
});
