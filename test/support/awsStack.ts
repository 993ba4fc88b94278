import { forRuntime, parseStackConfig, type StackConfigFor } from "../../infra/config/load";
import { installAwsMocks, type MockWorld, output } from "./awsMocks";
import { PROJECT_ROOT_FOR_TESTS } from "./paths";
import { stackFileConfig } from "./stackFiles";

/** Pulumi.prod.yaml as the program parses it, with optional per-key overrides of the aws/tls sections. */
export function prodConfig(over: { aws?: Record<string, unknown>; tls?: Record<string, unknown>; protect?: Record<string, unknown>; stack?: string } = {}): StackConfigFor<"aws"> {
    const raw = stackFileConfig("prod") as Record<string, any>;
    const merged = {
        ...raw,
        aws: { ...raw.aws, ...over.aws },
        tls: { ...raw.tls, ...over.tls },
        protect: { ...raw.protect, ...over.protect },
    };
    return forRuntime(parseStackConfig(merged, { stack: over.stack ?? "prod", projectRoot: PROJECT_ROOT_FOR_TESTS }), "aws");
}

/** Installs mocks and builds one AwsServer the way infra/program.ts does; resolves once every resource is registered. */
export async function buildAwsServer(cfg: StackConfigFor<"aws">, world: Partial<MockWorld> = {}, name = "inner-universe-aws") {
    const mocks = await installAwsMocks(cfg.stack, { region: cfg.aws.region, ...world });
    const { AwsServer } = await import("../../infra/aws");
    const server = new AwsServer(name, { cfg });
    const urls = {
        publicUrl: await output(server.publicUrl),
        wsUrl: await output(server.wsUrl),
        adminUrl: await output(server.adminUrl),
        instanceId: await output(server.instanceId),
        dataVolumeId: await output(server.dataVolumeId),
        alarmTopicArn: await output(server.alarmTopicArn),
        dnsTarget: await output(server.dnsTarget),
    };
    await mocks.settle();
    return { server, outputs: urls, ...mocks };
}
