import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE } from "./errors";
import { namespaced, parseStackConfig, type StackConfig } from "./load";

export { ConfigError } from "./errors";
export { forRuntime, parseStackConfig, type StackConfig, type StackConfigFor, type StackContext } from "./load";
export { type Runtime, stackConfigSchema } from "./schema";

export interface LoadedConfig {
    cfg: StackConfig;
    /** The deployer token when supplied as a secret; otherwise the stack mints one. */
    deployerToken?: pulumi.Output<string>;
}

/** The only place that reads pulumi.Config: once, before any resource exists. */
export function loadStackConfig(projectRoot: string): LoadedConfig {
    const cfg = parseStackConfig(namespaced(pulumi.runtime.allConfig()), { stack: pulumi.getStack(), projectRoot });
    const token = new pulumi.Config(CONFIG_NAMESPACE).getSecret("deployer_token");
    return token === undefined ? { cfg } : { cfg, deployerToken: token };
}
