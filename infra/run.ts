import { loadStackConfig } from "./config";
import { buildStack } from "./program";

/** The whole program for a project root: the language host runs it through index.ts, the tests under Pulumi mocks; its returned object is the stack outputs. */
export function runProgram(projectRoot: string) {
    return buildStack(loadStackConfig(projectRoot));
}
