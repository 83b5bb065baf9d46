// Texts: flat key → string (or plural objects {zero, one, two, few, many, other}), one JSON file
// per language. Which languages exist is data too: /app/i18n/languages.json lists each one's
// code (a BCP 47 tag, also the file name), native name, writing direction, the language its
// missing texts fall back to, and whether it is machine-translated. A city adds a language by
// adding a file and an entry, without code.
const BUILT_IN = [
  { code: 'de', name: 'Deutsch', dir: 'ltr' },
  { code: 'en', name: 'English', dir: 'ltr' },
];
let languages = BUILT_IN;
let dict = {};
let lang = 'de';

/** Read the language list (languages.json); the built-in German and English if it fails. */
export async function loadLanguages() {
  try {
    setLanguages(await fetchCatalog('/app/i18n/languages.json'));
  } catch { /* offline without a copy: German and English */ }
  return languages;
}

/** Use this language list (the service worker reads its cached languages.json). */
export function setLanguages(list) {
  if (Array.isArray(list) && list.some((l) => l?.code === 'de')) languages = list.filter((l) => l?.code);
}

export const languageList = () => languages;
export const languageInfo = (code) => languages.find((l) => l.code === code);

/**
 * The best of `codes` for the browser's preferred tags: an exact tag first (de-x-ls), then
 * the primary language (tr-TR → tr, ar-EG → ar); null when none fits.
 */
export function matchLanguage(tags, codes) {
  const lower = new Map(codes.map((c) => [c.toLowerCase(), c]));
  for (const tag of tags) {
    const wanted = String(tag).toLowerCase();
    if (lower.has(wanted)) return lower.get(wanted);
    const primary = wanted.split('-')[0];
    if (lower.has(primary)) return lower.get(primary);
  }
  return null;
}

/** The saved choice, else the browser's language, else German (the staff app passes its own). */
export function initialLang(codes = languages.map((l) => l.code)) {
  const saved = localStorage.getItem('mm.lang');
  if (codes.includes(saved)) return saved;
  return matchLanguage(navigator.languages || [navigator.language || 'de'], codes) || 'de';
}

let loading = null; // the language being loaded: API calls made meanwhile already ask for it

export const getLang = () => loading || lang;

// Where missing texts come from: the language's own fallback, then English, then German.
function fallbacks(code) {
  if (code === 'de') return [];
  const own = languageInfo(code)?.fallback;
  return [...new Set([own, 'en', 'de'].filter((c) => c && c !== code))];
}

/**
 * The Accept-Language an API call sends: the language, then the one its missing texts fall
 * back to (the city's category names exist in German and English only; notifications follow
 * the first tag).
 */
export function acceptLanguage(code = getLang()) {
  const next = fallbacks(code)[0];
  return code === 'de' || code === 'en' || !next ? code : `${code}, ${next};q=0.5`;
}

/**
 * The text files a language needs: its own and what its missing texts fall back to (German and
 * English have every key, tests/pwa/test_citizen_languages.py checks it).
 */
export function languageFiles(code) {
  const chain = code === 'de' || code === 'en' ? [code] : [code, ...fallbacks(code)];
  return chain.map((c) => `/app/i18n/${c}.json`);
}

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
  // Fallback files first, the language's own last: its texts win.
  const urls = [...languageFiles(next).reverse(), ...extraCatalogs.map((name) => `/app/i18n/${name}-${next}.json`)];
  loading = next;
  try {
    const parts = await Promise.all(urls.map(fetchCatalog));
    dict = Object.assign({}, ...parts);
    lang = next;
    document.documentElement.lang = next;
    document.documentElement.dir = languageInfo(next)?.dir === 'rtl' ? 'rtl' : 'ltr';
  } finally {
    if (loading === next) loading = null;
  }
}

export function t(key, params = {}) {
  let text = dict[key];
  if (text == null) return ''; // never a key name on screen (every file is checked complete)
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

/** The staff app's language switch (German and English) offers the other language, named in it. */
export function setLangButton(button = document.querySelector('#lang-switch')) {
  const other = getLang() === 'de' ? 'en' : 'de';
  button.textContent = other === 'en' ? 'English' : 'Deutsch';
  button.lang = other;
  button.setAttribute('aria-label', other === 'en' ? 'Switch to English' : 'Auf Deutsch umschalten');
}
