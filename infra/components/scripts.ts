import * as path from "node:path";

/** Shell steps live in scripts/ so they can be run and shellchecked on their own. */
export function script(projectRoot: string, name: string, ...args: string[]): string {
    return ["bash", JSON.stringify(path.join(projectRoot, "scripts", name)), ...args.map((a) => JSON.stringify(a))].join(" ");
}
