/** The toolbar's smoothing slider, shared by the Dashboard and the Compare panel: 0..MAX_SMOOTHING and its value. */
import { element } from '../shared/dom.js';
import { MAX_SMOOTHING } from './smoothing.js';

/** A `label.smoothing` holding the slider at `initial` and its value; `changed` gets each value the user picks. */
export function smoothingSlider(initial: number, changed: (smoothing: number) => void): HTMLLabelElement {
  const input = element('input', 'smoothing-input');
  const shown = element('output', 'smoothing-value');
  Object.assign(input, { type: 'range', min: '0', max: String(MAX_SMOOTHING), step: '0.001' });
  input.value = String(initial);
  shown.textContent = initial.toFixed(3);
  input.addEventListener('input', () => {
    const smoothing = Number(input.value);
    shown.textContent = smoothing.toFixed(3);
    changed(smoothing);
  });
  const label = element('label', 'smoothing');
  label.append(element('span', undefined, 'Smoothing'), input, shown);
  return label;
}
