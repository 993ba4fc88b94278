/** IPv4 CIDR arithmetic for rule sets (inputs are validated, canonical CIDRs). */

function toInt(ip: string): number {
    return ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

export function ipInCidr(ip: string, cidr: string): boolean {
    const [net, bits] = cidr.split("/");
    const size = 2 ** (32 - Number(bits));
    return Math.floor(toInt(ip) / size) === Math.floor(toInt(net ?? "") / size);
}

/** True when every address of `inner` is in `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
    const [innerNet, innerBits] = inner.split("/");
    return Number(innerBits) >= Number(outer.split("/")[1]) && ipInCidr(innerNet ?? "", outer);
}

/** Drops duplicates and CIDRs inside another one: one security-group rule per distinct network. */
export function coveringCidrs(cidrs: string[]): string[] {
    const unique = [...new Set(cidrs)];
    return unique.filter((c, i) => !unique.some((o, j) => j !== i && cidrContains(o, c) && (o !== c || j < i)));
}
