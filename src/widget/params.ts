/**
 * The widget's settings, read from its own URL (`widget.html?cloud=…&cpu=…&theme=…&accent=…&partner=…`), which
 * the partner page chose (public/embed.js builds it). Every value is untrusted: a bad one falls back to its
 * default rather than failing, so a typo on a partner page never breaks the widget. Also works out which page
 * embeds the widget, cross-checking the claimed partner origin against what the browser reports.
 */
import { z } from 'zod/mini';

export type WidgetTheme = 'light' | 'dark' | 'auto';

export interface WidgetParams {
  readonly cloud: string;
  /** Default CPU share for lending, percent of one core's time (duty cycle). */
  readonly cpuPercent: number;
  readonly theme: WidgetTheme;
  /** A #rrggbb accent colour, or null for the default. */
  readonly accent: string | null;
  /** The origin the embedding page claims (embed.js sets it); checked by `resolvePartnerOrigin`. */
  readonly claimedPartner: string | null;
}

export const DEFAULT_CPU_PERCENT = 20;
export const MIN_CPU_PERCENT = 5;
export const MAX_CPU_PERCENT = 100;

const cloudSchema = z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,62}$/));
const cpuSchema = z.coerce.number().check(z.int(), z.minimum(MIN_CPU_PERCENT), z.maximum(MAX_CPU_PERCENT));
const themeSchema = z.enum(['light', 'dark', 'auto']);
const accentSchema = z.string().check(z.regex(/^#[0-9a-fA-F]{6}$/));

function pick<T>(schema: z.ZodMiniType<T>, raw: string | null, fallback: T): T {
  if (raw === null) return fallback;
  const parsed = schema.safeParse(raw);
  return parsed.success ? parsed.data : fallback;
}

export function readWidgetParams(search: string): WidgetParams {
  const q = new URLSearchParams(search);
  const partner = q.get('partner');
  return {
    cloud: pick(cloudSchema, q.get('cloud'), 'public'),
    cpuPercent: pick(cpuSchema, q.get('cpu'), DEFAULT_CPU_PERCENT),
    theme: pick(themeSchema, q.get('theme'), 'auto'),
    accent: pick<string | null>(accentSchema, q.get('accent'), null),
    claimedPartner: partner === null ? null : originOf(partner),
  };
}

/** `url`'s origin when it is an http(s) URL with no path beyond `/`, else null. */
export function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return u.origin;
  } catch {
    return null;
  }
}

export type PartnerResolution =
  | { readonly ok: true; readonly origin: string | null }
  | { readonly ok: false; readonly code: 'E_PARTNER_MISMATCH'; readonly message: string };

/**
 * The embedding page's origin. Where the browser tells us the parent's origin (`location.ancestorOrigins`,
 * Chromium and Safari) that wins and a different claim is refused; otherwise the claim must agree with the
 * referrer's origin when there is one. Null when the widget is not framed (opened directly) or nothing is known.
 */
export function resolvePartnerOrigin(input: {
  readonly framed: boolean;
  readonly claimed: string | null;
  readonly parentOrigin: string | null;
  readonly referrer: string;
}): PartnerResolution {
  if (!input.framed) return { ok: true, origin: null };
  const referrerOrigin = input.referrer ? originOf(input.referrer) : null;
  const known = input.parentOrigin ?? referrerOrigin;
  if (input.claimed !== null && known !== null && input.claimed !== known) {
    return { ok: false, code: 'E_PARTNER_MISMATCH', message: `the page claims to be ${input.claimed} but is ${known}` };
  }
  return { ok: true, origin: input.claimed ?? known };
}
