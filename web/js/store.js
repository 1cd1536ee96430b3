// Reference data read once per session: the user, the ambito with its comuni, the taxonomy.

import { api } from './api.js';

let cache = {};

export function resetStore() {
  cache = {};
}

function once(key, load) {
  if (!cache[key]) {
    cache[key] = load().catch((error) => {
      delete cache[key];
      throw error;
    });
  }
  return cache[key];
}

export function me() {
  return once('me', () => api('/api/users/me'));
}

export function forgetMe() {
  delete cache.me;
}

export async function ambito() {
  return once('ambito', async () => {
    const list = await api('/api/ambiti');
    const current = Array.isArray(list) ? list[0] : list;
    return current || { name: '', code: '', comuni: [] };
  });
}

export async function comuni() {
  const current = await ambito();
  return [...(current.comuni || [])].sort((a, b) => a.name.localeCompare(b.name, 'it'));
}

export async function comuneNames() {
  const list = await comuni();
  return Object.fromEntries(list.map((c) => [c.istat_code, c.name]));
}

export async function taxonomy() {
  return once('taxonomy', async () => {
    const terms = await api('/api/taxonomy');
    const byCode = Object.fromEntries(terms.map((t) => [t.code, t]));
    const roots = terms.filter((t) => !t.parent_code);
    const children = {};
    for (const term of terms) {
      if (term.parent_code) (children[term.parent_code] ||= []).push(term);
    }
    return { terms, byCode, roots, children };
  });
}

export async function categoryName(code) {
  const { byCode } = await taxonomy();
  return byCode[code]?.name ?? code;
}

export function invalidate(key) {
  delete cache[key];
}
