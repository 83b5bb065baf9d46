// Texts: flat key → string (or {one, other} for plurals), one JSON file per language.
export const LANGS = ['de', 'en'];
let dict = {};
let lang = 'de';

export function initialLang() {
  const saved = localStorage.getItem('mm.lang');
  if (LANGS.includes(saved)) return saved;
  for (const l of navigator.languages || [navigator.language || 'de']) {
    const short = String(l).slice(0, 2).toLowerCase();
    if (LANGS.includes(short)) return short;
  }
  return 'de';
}

let loading = null; // the language being loaded: API calls made meanwhile already ask for it

export const getLang = () => loading || lang;

// Extra catalogs merged over the shared one, e.g. ['staff'] → /app/i18n/staff-<lang>.json
// (the citizen app uses none, so it loads only its own texts).
let extraCatalogs = [];
export function useCatalogs(names) { extraCatalogs = [...names]; }

async function fetchCatalog(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`texts ${url}: ${response.status}`);
  return response.json();
}

export async function loadLang(next) {
  const urls = [`/app/i18n/${next}.json`, ...extraCatalogs.map((name) => `/app/i18n/${name}-${next}.json`)];
  loading = next;
  try {
    const parts = await Promise.all(urls.map(fetchCatalog));
    dict = Object.assign({}, ...parts);
    lang = next;
    document.documentElement.lang = next;
  } finally {
    if (loading === next) loading = null;
  }
}

export function t(key, params = {}) {
  let text = dict[key];
  if (text == null) return key;
  if (typeof text === 'object') {
    const form = new Intl.PluralRules(lang).select(params.n ?? 0);
    text = text[form] ?? text.other;
  }
  return text.replace(/\{(\w+)\}/g, (_, name) =>
    name === 'n' && typeof params.n === 'number' ? formatNumber(params.n) : String(params[name] ?? ''));
}

/** Fill [data-i18n] (text) and [data-i18n-attr="attr:key;attr:key"] below root. */
export function applyTexts(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      el.setAttribute(attr, t(key));
    }
  }
}

export const formatNumber = (n, options) => new Intl.NumberFormat(lang, options).format(n);

export function formatDate(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

export function formatDistance(meters) {
  return formatNumber(Math.round(meters), { style: 'unit', unit: 'meter', unitDisplay: 'short' });
}

export const statusLabel = (status) => t(`status.${status}`);

/** How a closed report ended: fixed, not fixed, not the city's, reported already. */
export const outcomeLabel = (outcome) => t(`outcome.${outcome}`);

/** Is the report open and past the date the city expected it fixed by (`expected_at`)? */
export const isOverdue = (report, now = Date.now()) =>
  Boolean(report?.expected_at) && new Date(report.expected_at).getTime() < now;

/** The language switch offers the other language, named in that language. */
export function setLangButton(button = document.querySelector('#lang-switch')) {
  const other = getLang() === 'de' ? 'en' : 'de';
  button.textContent = other === 'en' ? 'English' : 'Deutsch';
  button.lang = other;
  button.setAttribute('aria-label', other === 'en' ? 'Switch to English' : 'Auf Deutsch umschalten');
}
