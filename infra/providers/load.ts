import type * as pulumi from "@pulumi/pulumi";

/**
 * A dynamic provider whose implementation is loaded at run time from `file`, a path relative to
 * the project root (the provider process's working directory). Pulumi serializes the provider
 * object into the stack's state and runs that copy on delete; capturing a relative path keeps the
 * state identical across checkouts and lets a runner that never saw the deploying checkout destroy
 * the stack. The implementation is plain Node (erasable TypeScript, Node built-ins), so it loads
 * the same under the language host, vitest and the Automation API.
 */
export function providerAt(file: string): pulumi.dynamic.ResourceProvider {
    // Inside the methods only: this text is what Pulumi serializes.
    return {
        async check(olds, news) {
            const impl = require(require("node:path").resolve(file));
            return impl.check ? impl.check(olds, news) : { inputs: news };
        },
        async create(inputs) {
            return require(require("node:path").resolve(file)).create(inputs);
        },
        async read(id, props) {
            const impl = require(require("node:path").resolve(file));
            return impl.read ? impl.read(id, props) : { id, props };
        },
        async diff(id, olds, news) {
            return require(require("node:path").resolve(file)).diff(id, olds, news);
        },
        async update(id, olds, news) {
            return require(require("node:path").resolve(file)).update(id, olds, news);
        },
        async delete(id, props) {
            return require(require("node:path").resolve(file)).remove(id, props);
        },
    };
}
