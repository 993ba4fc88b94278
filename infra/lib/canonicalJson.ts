/**
 * Stable text for a JSON-like value: object keys sorted, undefined members dropped, so key order
 * never shows as a change. Used by the shell provider (inputs, secret hashes) and the settings
 * provider. No imports: provider implementations load it under Node's type stripping, the program
 * under ts-node.
 */
export function canonicalJson(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
    if (value !== null && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        return `{${Object.keys(obj)
            .filter((k) => obj[k] !== undefined)
            .sort()
            .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
            .join(",")}}`;
    }
    return JSON.stringify(value ?? null);
}
