import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { installAwsMocks, output } from "../../../test/support/awsMocks";
import { DATABASE_TYPE, IDENTITY_TYPE, READINESS_TYPE, SETTINGS_TYPE } from "../../../test/support/harness";
import { stackFileConfig } from "../../../test/support/stackFiles";
import { mergeConfig, pulumiConfigMap } from "./overrides";

const ROOT = path.resolve(__dirname, "..", "..", "..");

export interface RenderedHost {
    /** The registered aws.ec2.Instance's userData, byte for byte. */
    userData: string;
    instanceId: string;
    volumeId: string;
    /** The stack config the program ran with (Pulumi.prod.yaml plus the overrides). */
    config: Record<string, string>;
    /** The inputs the program gave its deploy steps (identity, publish, settings, readiness), for ops/drill/host/deploy-steps.ts. */
    steps: Record<"identity" | "database" | "settings" | "readiness", Record<string, unknown>>;
}

/**
 * Runs the real program entry (infra/run.ts, as `pulumi up` would) for the prod stack under Pulumi
 * mocks (the AWS provider cannot run offline) with the given overrides as stack config, and takes
 * the user data of the instance it registers. Mocks are process-global: call once per process
 * (ops/drill/host/user-data.ts is the entry the drill runs in a child process).
 */
export async function renderProdHost(overrides: Record<string, unknown>, stack = "prod"): Promise<RenderedHost> {
    const values = mergeConfig(stackFileConfig(stack), overrides);
    const region = ((values.aws as Record<string, unknown> | undefined)?.region as string | undefined) ?? "eu-west-1";
    const mocks = await installAwsMocks(stack, { region });
    const config = pulumiConfigMap(values);
    pulumi.runtime.setAllConfig(config);
    const { runProgram } = await import("../../../infra/run");
    let outputs: ReturnType<typeof runProgram> | undefined;
    await mocks.run(() => {
        outputs = runProgram(ROOT);
    });
    const ops = await output(outputs!.aws!);
    await mocks.settle();
    const instances = mocks.resources.filter((r) => r.type === "aws:ec2/instance:Instance");
    if (instances.length !== 1) throw new Error(`expected one aws.ec2.Instance, the program registered ${instances.length}`);
    const userData = instances[0]!.inputs.userData as string;
    if (typeof userData !== "string" || !userData.startsWith("#cloud-config")) throw new Error("the instance has no #cloud-config user data");
    const step = (type: string) => {
        const found = mocks.resources.filter((r) => r.type === type);
        if (found.length !== 1) throw new Error(`expected one ${type}, the program registered ${found.length}`);
        // Without the serialized provider (`__provider`) and the engine's bookkeeping.
        return Object.fromEntries(Object.entries(found[0]!.inputs).filter(([k]) => !k.startsWith("__")));
    };
    const steps = { identity: step(IDENTITY_TYPE), database: step(DATABASE_TYPE), settings: step(SETTINGS_TYPE), readiness: step(READINESS_TYPE) };
    return { userData, instanceId: ops.instanceId, volumeId: ops.dataVolumeId, config, steps };
}
