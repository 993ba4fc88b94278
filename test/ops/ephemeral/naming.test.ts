import { describe, expect, it } from "vitest";
import { ephemeralStackName, isEphemeralStackName, labelPrefix, randomPart, slugLabel } from "../../../ops/ephemeral/naming";

const NOW = Date.UTC(2026, 10, 26, 8, 0, 0);

describe("ephemeral stack names", () => {
    it.each([
        ["pr-123", "pr-123"],
        ["PR #123", "pr-123"],
        ["  feature/Ünïcode  ", "feature-n-co"],
        ["a--b", "a-b"],
        ["very-long-label-indeed", "very-long-la"],
        ["abcdefghijk-z", "abcdefghijk"],
    ])("slugLabel(%j) = %j", (label, slug) => {
        expect(slugLabel(label)).toBe(slug);
    });

    it.each(["", "---", "!!!"])("slugLabel rejects %j", (label) => {
        expect(() => slugLabel(label)).toThrow(/no letters or digits/);
    });

    it.each([
        [{ label: "pr-123", now: NOW, random: "x7k2" }, "eph-pr-123-tp3nk0-x7k2"],
        [{ label: "local", now: 0, random: "0000" }, "eph-local-0-0000"],
        [{ label: "very-long-label-indeed", now: NOW, random: "zzzz" }, "eph-very-long-la-tp3nk0-zzzz"],
    ])("ephemeralStackName(%j) = %s", (parts, name) => {
        expect(ephemeralStackName(parts)).toBe(name);
        expect(isEphemeralStackName(name)).toBe(true);
        expect(name.length).toBeLessThanOrEqual(31);
        // Also a valid environment name for the atlas output.
        expect(name).toMatch(/^[a-z][a-z0-9-]{0,30}$/);
    });

    it("differs between runs a second apart or with other randomness", () => {
        const a = ephemeralStackName({ label: "pr-1", now: NOW, random: "aaaa" });
        expect(ephemeralStackName({ label: "pr-1", now: NOW + 1000, random: "aaaa" })).not.toBe(a);
        expect(ephemeralStackName({ label: "pr-1", now: NOW, random: "aaab" })).not.toBe(a);
    });

    it.each(["abc", "ABCD", "ab-c", "abcde"])("rejects random part %j", (random) => {
        expect(() => ephemeralStackName({ label: "x", now: NOW, random })).toThrow(/random part/);
    });

    it.each([
        ["dev", false],
        ["prod", false],
        ["test", false],
        ["smoke", false],
        ["eph-", false],
        ["eph-pr-1", false],
        ["ephemeral-pr-1-tp3nk0-x7k2", false],
        ["eph-PR-1-tp3nk0-x7k2", false],
        ["eph-pr-1-tp3nk0-x7k2", true],
        ["eph-local-0-0000", true],
        ["eph-pr-1-tp3nk0-x7k2-and-then-some-more", false],
    ])("isEphemeralStackName(%j) = %s", (name, ok) => {
        expect(isEphemeralStackName(name)).toBe(ok);
    });

    it("label prefixes do not capture another pull request's stacks", () => {
        const pr1 = labelPrefix("pr-1");
        expect(pr1).toBe("eph-pr-1-");
        expect(ephemeralStackName({ label: "pr-1", now: NOW, random: "aaaa" }).startsWith(pr1)).toBe(true);
        expect(ephemeralStackName({ label: "pr-12", now: NOW, random: "aaaa" }).startsWith(pr1)).toBe(false);
    });

    it("randomPart gives four base-36 characters", () => {
        for (let i = 0; i < 50; i++) expect(randomPart()).toMatch(/^[a-z0-9]{4}$/);
    });
});
