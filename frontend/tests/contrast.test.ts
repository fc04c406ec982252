/** Text colours of styles.css against the backgrounds they are drawn on: WCAG 2 AA, 4.5:1 for normal text. */

import { readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";

const css = readFileSync(new URL("../src/styles.css", import.meta.url), "utf8");

/** The `--name: #rrggbb` custom properties of :root. */
const vars = Object.fromEntries(
  [...css.slice(0, css.indexOf("}")).matchAll(/--([\w-]+):\s*(#[0-9a-fA-F]{6})\b/g)].map((m) => [m[1], m[2]]),
);

function color(name: string): string {
  if (name.startsWith("#")) return name;
  const value = vars[name];
  if (!value) throw new Error(`styles.css :root has no --${name}`);
  return value;
}

/** Relative luminance, WCAG 2.x definition. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(color(a)), luminance(color(b))].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

// [text, background, where]: a name is a --variable of :root, a #hex a colour written in place.
const PAIRS: [string, string, string][] = [
  ["text", "panel", "body text"],
  ["muted", "panel", "labels, hints, timings"],
  ["muted", "bg", "tags, a hovered conversation"],
  ["muted", "accent-soft", "the selected conversation's date and id"],
  ["muted", "customer", "the customer bubble's speaker label"],
  ["muted", "agent", "the agent bubble's label, the agent box's character count"],
  ["muted", "#fbfcff", "suggested replies"],
  ["accent", "panel", "links"],
  ["accent", "accent-soft", "intent badges"],
  ["#ffffff", "accent", "button text"],
  ["warn", "warn-soft", "handoff banner and tags"],
  ["danger", "danger-soft", "error notices"],
  ["ok", "#ecfdf3", "indexed status"],
];

describe("styles.css contrast", () => {
  it.each(PAIRS)("%s on %s (%s) reaches 4.5:1", (text, background) => {
    expect(contrast(text, background)).toBeGreaterThanOrEqual(4.5);
  });
});
