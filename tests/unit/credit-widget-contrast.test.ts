/**
 * Accessibility of the lending widget's themes (issue #6: "accessible … contrast"): every theme in widget.css
 * keeps text at 4.5:1 or more (WCAG 1.4.3) and control borders and the focus ring at 3:1 (1.4.11), and a
 * partner's own accent colour gets black or white text, whichever reads.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { contrastRatio, luminance, readableTextOn } from '../../src/widget/contrast.ts';

const CSS = readFileSync(new URL('../../src/widget/widget.css', import.meta.url), 'utf8');

/** The custom properties of each theme block (light = `:root {`, dark = `[data-theme='dark']`, auto-dark). */
function themes(): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  const blocks: [string, RegExp][] = [
    ['light', /^:root \{([^}]*)\}/m],
    ['dark', /:root\[data-theme='dark'\] \{([^}]*)\}/],
    ['auto-dark', /:root\[data-theme='auto'\] \{([^}]*)\}/],
  ];
  for (const [name, re] of blocks) {
    const body = re.exec(CSS)?.[1];
    if (body === undefined) throw new Error(`theme ${name} not found in widget.css`);
    out.set(name, Object.fromEntries([...body.matchAll(/--([a-z-]+):\s*(#[0-9a-fA-F]{6})/g)].map((m) => [m[1]!, m[2]!])));
  }
  return out;
}

describe('widget themes', () => {
  it('computes WCAG contrast ratios', () => {
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 6);
    expect(contrastRatio('#777777', '#777777')).toBe(1);
    expect(luminance('#ffffff')).toBeCloseTo(1, 9);
    expect(() => luminance('red')).toThrow(/E_BAD_COLOUR/);
  });

  it.each([...themes()])('%s theme: text 4.5:1, controls and focus ring 3:1', (_name, t) => {
    for (const key of ['bg', 'fg', 'muted', 'control', 'accent', 'accent-fg', 'danger']) expect(t[key], key).toMatch(/^#/);
    const bg = t.bg!;
    expect(contrastRatio(t.fg!, bg)).toBeGreaterThanOrEqual(4.5);
    expect(contrastRatio(t.muted!, bg)).toBeGreaterThanOrEqual(4.5);
    expect(contrastRatio(t.danger!, bg)).toBeGreaterThanOrEqual(4.5);
    expect(contrastRatio(t['accent-fg']!, t.accent!)).toBeGreaterThanOrEqual(4.5);
    expect(contrastRatio(t.accent!, bg)).toBeGreaterThanOrEqual(4.5); // links and the focus ring
    expect(contrastRatio(t.control!, bg)).toBeGreaterThanOrEqual(3);
  });

  it("picks readable text for a partner's accent", () => {
    expect(readableTextOn('#ffeb3b')).toBe('#000000');
    expect(readableTextOn('#1a237e')).toBe('#ffffff');
    for (const accent of ['#2563eb', '#e91e63', '#00bcd4', '#4caf50', '#ff9800', '#9c27b0', '#808080']) {
      expect(contrastRatio(readableTextOn(accent), accent)).toBeGreaterThanOrEqual(4.5);
    }
  });
});
