import escapeHtml from 'escape-html';

/**
 * A tiny document model for the notice e-mails: the templates describe a mail once, and it is rendered twice, as plain
 * text and as HTML. Every interpolated value is escaped for the output it lands in: in HTML as entities, in both by
 * replacing control and bidirectional-override characters, so that a nickname cannot add lines, fake a paragraph or
 * reorder what the reader sees.
 */

/** Literal text from the template, and values that came from data. */
export type Part = { literal: string } | { value: string };
export interface Fragment {
  readonly parts: readonly Part[];
}

export type Block =
  | { kind: 'paragraph'; text: Fragment }
  | { kind: 'facts'; rows: readonly (readonly [label: string, value: Fragment])[] }
  | { kind: 'list'; items: readonly Fragment[] }
  | { kind: 'heading'; text: string }
  | { kind: 'link'; label: string; url: string };

/** Tagged template: `t\`Bucket ${bucket} refused\`` keeps `bucket` apart as a value to escape. */
export function t(literals: TemplateStringsArray, ...values: (string | number | Fragment)[]): Fragment {
  const parts: Part[] = [];
  literals.forEach((literal, i) => {
    if (literal) parts.push({ literal });
    if (i >= values.length) return;
    const value = values[i];
    if (typeof value === 'object') parts.push(...value.parts);
    else parts.push({ value: String(value) });
  });
  return { parts };
}

// Control characters (C0, DEL, C1: line breaks among them) and the bidirectional controls (U+202A–U+202E,
// U+2066–U+2069, U+200E/U+200F, U+061C).
const UNSAFE = /[\p{Cc}\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/gu;

/** A value made safe for a single line of plain text (also what a mail header may carry). */
export const plainValue = (value: string): string => value.replace(UNSAFE, ' ');

const textOf = (fragment: Fragment): string =>
  fragment.parts.map((p) => ('literal' in p ? p.literal : plainValue(p.value))).join('');

const htmlOf = (fragment: Fragment): string =>
  fragment.parts
    .map((p) => ('literal' in p ? escapeHtml(p.literal) : escapeHtml(plainValue(p.value))))
    .join('');

/** Plain text for a subject line. */
export const subjectText = textOf;

function blockText(block: Block): string {
  switch (block.kind) {
    case 'paragraph':
      return textOf(block.text);
    case 'heading':
      return `${block.text}:`;
    case 'facts': {
      const width = Math.max(...block.rows.map(([label]) => label.length)) + 2;
      return block.rows.map(([label, value]) => `  ${`${label}:`.padEnd(width)}${textOf(value)}`).join('\n');
    }
    case 'list':
      return block.items.map((item) => `  - ${textOf(item)}`).join('\n');
    case 'link':
      return `${block.label}: ${plainValue(block.url)}`;
  }
}

/** Blocks separated by a blank line; a heading sits right above what it heads. */
export function renderText(blocks: readonly Block[]): string {
  return `${blocks
    .map(
      (block, i) =>
        `${blockText(block)}${block.kind === 'heading' || i === blocks.length - 1 ? '\n' : '\n\n'}`,
    )
    .join('')}`;
}

const CELL = 'padding:2px 12px 2px 0;vertical-align:top';

export function renderHtml(blocks: readonly Block[]): string {
  const rendered = blocks.map((block) => {
    switch (block.kind) {
      case 'paragraph':
        return `<p>${htmlOf(block.text)}</p>`;
      case 'heading':
        return `<h3 style="margin:20px 0 6px;font-size:15px">${escapeHtml(block.text)}</h3>`;
      case 'facts':
        return `<table role="presentation">${block.rows
          .map(
            ([label, value]) =>
              `<tr><td style="${CELL};color:#555">${escapeHtml(label)}</td><td style="${CELL}">${htmlOf(value)}</td></tr>`,
          )
          .join('')}</table>`;
      case 'list':
        return `<ul>${block.items.map((item) => `<li>${htmlOf(item)}</li>`).join('')}</ul>`;
      case 'link':
        return `<p><a href="${escapeHtml(plainValue(block.url))}">${escapeHtml(block.label)}</a></p>`;
    }
  });
  return [
    '<!doctype html>',
    '<html><body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:1.5;color:#222">',
    ...rendered,
    '</body></html>',
    '',
  ].join('\n');
}
