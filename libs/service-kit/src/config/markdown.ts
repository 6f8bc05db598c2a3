/**
 * The few pieces of Markdown the config reference writes: code spans, prose that stays
 * prose, and tables. Tables come out aligned exactly as Prettier prints them, because
 * the generated files live in a repository that runs `prettier --check .` and must not
 * need reformatting after each generation.
 */

/** `text` as inline code, with a fence long enough for any backticks inside it. */
export function code(text: string): string {
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/**
 * Schema descriptions are written as Markdown (backticks for keys and values), so they
 * pass through, except that outside code spans `<` is escaped: `http:<origin>` would
 * otherwise be swallowed as an HTML tag. Line breaks would end a table row.
 */
export function prose(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .split(/(`+[^`]*?`+)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, '\\<')))
    .join('');
}

/** A GFM table with left-aligned columns, padded the way Prettier pads them. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [header, ...rows].map((row) => row.map((cell) => cell.replace(/\|/g, '\\|')));
  const widths = header.map((_, column) =>
    Math.max(3, ...cells.map((row) => displayWidth(row[column] ?? ''))),
  );
  const line = (row: readonly string[]) =>
    `| ${widths.map((width, column) => pad(row[column] ?? '', width)).join(' | ')} |`;
  const [head = [], ...body] = cells;
  return [line(head), line(widths.map((width) => '-'.repeat(width))), ...body.map(line)].join('\n');
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(width - displayWidth(text));
}

const zeroWidth = /[\p{Cc}\p{Mn}\p{Me}]/u;
const wide =
  /[\p{Emoji_Presentation}\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{20000}-\u{3fffd}]/u;

/**
 * Columns a string takes in a monospace editor, as Prettier counts them: CJK and emoji
 * take two, combining marks none. Descriptions are English prose, so this covers them.
 */
function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += zeroWidth.test(char) ? 0 : wide.test(char) ? 2 : 1;
  return width;
}
