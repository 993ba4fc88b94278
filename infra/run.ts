import { loadStackConfig } from "./config";
import { buildStack } from "./program";

/** The program as the Automation API runs it inline: outputs are the returned object. */
export function runProgram(projectRoot: string) {
    return buildStack(loadStackConfig(projectRoot));
}
