/**
 * DOM helpers of the Rollout Groups panel. Every text the host sends (questions, responses, ids) goes
 * into the page with `textContent` or an attribute, never as HTML.
 */

import { element } from '../shared/dom.js';

export { element };

export function button(text: string, onClick: () => void, className = 'button', title?: string): HTMLButtonElement {
  const created = element('button', className, text);
  created.type = 'button';
  if (title) created.title = title;
  created.addEventListener('click', (event) => {
    event.stopPropagation();
    if (!created.disabled) onClick();
  });
  return created;
}

/** Whether `active` is a field the user types into (a redraw would throw the typing away). */
export function isField(active: Element | null): boolean {
  return active instanceof HTMLInputElement || active instanceof HTMLSelectElement || active instanceof HTMLTextAreaElement;
}

export function labelled(text: string, control: HTMLElement, className = 'field'): HTMLLabelElement {
  const label = element('label', className);
  label.append(element('span', 'field-label', text), control);
  return label;
}

export function select<T extends string>(options: readonly { value: T; label: string }[], value: T, onChange: (value: T) => void): HTMLSelectElement {
  const created = element('select');
  for (const option of options) {
    const item = element('option', undefined, option.label);
    item.value = option.value;
    created.append(item);
  }
  created.value = value;
  created.addEventListener('change', () => onChange(created.value as T));
  return created;
}

/** A number for a table cell: 3 decimals, or 2 significant digits in exponent form when tiny or huge. */
export function formatNumber(value: number | undefined, digits = 3): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude < 10 ** -digits || magnitude >= 1e5) return value.toExponential(1);
  return value.toFixed(digits);
}

/** The URI of an image of the run: the run directory's webview URI and the group's relative path. */
export function imageUri(imageBase: string, image: string): string {
  if (!imageBase) return '';
  return `${imageBase.replace(/\/+$/, '')}/${image.split('/').map(encodeURIComponent).join('/')}`;
}

