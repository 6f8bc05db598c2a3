/**
 * The URL template of the http backend, e.g. `https://mirror.example/blobs/{digest}`:
 * its placeholders and the check that a template can name objects at all, which both
 * the config schema and the backend apply.
 */
const PLACEHOLDERS = ['key', 'digest', 'algorithm', 'hex'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export const PLACEHOLDER = /\{([a-z]+)\}/g;

/** Why `template` is not a usable URL template, or undefined when it is. */
export function urlTemplateProblem(template: string): string | undefined {
  const unknown = [...template.matchAll(PLACEHOLDER)]
    .map((m) => m[1] ?? '')
    .filter((p) => !(PLACEHOLDERS as readonly string[]).includes(p));
  if (unknown.length > 0)
    return `unknown placeholder {${unknown[0]}}; use ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`;
  if (!/\{[a-z]+\}/.test(template)) return 'no placeholder: every object would map to the same URL';
  let url: URL;
  try {
    url = new URL(template.replace(PLACEHOLDER, 'x'));
  } catch {
    return 'not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'only http and https URLs are supported';
  if (url.username !== '' || url.password !== '') return 'credentials belong in `headers`, not in the URL';
  return undefined;
}
