/**
 * Shell steps live in scripts/ so they can be run and shellchecked on their own. The command names
 * them relative to the project root, the directory every step runs in (the engine starts providers
 * there): a stack's state then reads the same from every checkout and every runner.
 */
export function script(name: string, ...args: string[]): string {
    return ["bash", JSON.stringify(`scripts/${name}`), ...args.map((a) => JSON.stringify(a))].join(" ");
}
