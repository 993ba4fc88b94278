import { gunzipSync } from "node:zlib";

/**
 * The user data as cloud-init writes it: every `encoding: gz+b64` file (the bootstrap) shown as
 * the plain block it decodes to, so a test can read the script the host runs.
 */
export function expandUserData(userData: string): string {
    return userData.replace(/^( {2})encoding: gz\+b64\n {2}content: (\S+)$/gm, (_all, indent: string, b64: string) => {
        const body = gunzipSync(Buffer.from(b64, "base64")).toString("utf8").replace(/\n$/, "");
        return `${indent}content: |\n${body
            .split("\n")
            .map((l) => (l === "" ? "" : `    ${l}`))
            .join("\n")}`;
    });
}
