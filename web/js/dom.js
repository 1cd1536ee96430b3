// Tiny DOM builder: every piece of API data goes in as text, never as HTML.

const BOOLEAN_PROPS = new Set(['checked', 'disabled', 'selected', 'hidden', 'required', 'multiple', 'readOnly', 'open']);
const VALUE_PROPS = new Set(['value', 'htmlFor', 'tabIndex']);

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false && !BOOLEAN_PROPS.has(key)) continue;
      if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
      else if (key === 'text') el.textContent = value;
      else if (key === 'dataset') Object.assign(el.dataset, value);
      else if (key === 'style' && typeof value === 'object') Object.assign(el.style, value);
      else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
      else if (BOOLEAN_PROPS.has(key)) el[key] = Boolean(value);
      else if (VALUE_PROPS.has(key)) el[key] = value;
      else el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let counter = 0;
export function uid(prefix = 'id') {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** Empty an element and put new children in (null/false children are skipped). */
export function fill(el, ...children) {
  clear(el);
  return append(el, children);
}

/**
 * Let a table turn into stacked cards on a phone: each cell gets its column's header as a
 * data-label, shown by CSS before the value (the table semantics stay for screen readers).
 */
export function responsive(table) {
  const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
  for (const row of table.querySelectorAll('tbody tr')) {
    [...row.children].forEach((cell, index) => {
      if (heads[index]) cell.dataset.label = heads[index];
    });
  }
  table.classList.add('responsive');
  return table;
}
