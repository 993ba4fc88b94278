import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { freePort, portWindow } from "../../ops/ports";

function rangeFile(content: string): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "iu-range-")), "ip_local_port_range");
    fs.writeFileSync(file, content);
    return file;
}

describe("portWindow", () => {
    it.each([
        ["32768\t60999\n", [22768, 32767]],
        ["40000 65000", [30000, 39999]],
    ])("%j gives %j", (content, window) => {
        expect(portWindow(rangeFile(content))).toEqual(window);
    });

    it("falls back to the Linux default without procfs", () => {
        expect(portWindow("/nonexistent/ip_local_port_range")).toEqual([22768, 32767]);
    });

    it("refuses a host whose ephemeral range leaves too little room below it", () => {
        expect(() => portWindow(rangeFile("5000 60999"))).toThrow(/ephemeral ports start at 5000/);
    });
});

describe("freePort", () => {
    it("hands out distinct, bindable ports below the kernel's ephemeral range", async () => {
        const [low, high] = portWindow();
        const ports: number[] = [];
        for (let i = 0; i < 40; i++) ports.push(await freePort());
        expect(new Set(ports).size).toBe(ports.length);
        for (const port of ports) {
            expect(port).toBeGreaterThanOrEqual(low);
            expect(port).toBeLessThanOrEqual(high);
        }
        const srv = net.createServer();
        await new Promise<void>((resolve, reject) => {
            srv.once("error", reject);
            srv.listen(ports[0], "127.0.0.1", resolve);
        });
        await new Promise((r) => srv.close(r));
    });
});
