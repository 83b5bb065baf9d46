// Staff app start: texts, session, routing between login, crew, dispatcher and analyst screens,
// the crew action queue (sent when the connection returns) and the shared service worker.
import { initialLang, loadLang, applyTexts, t, getLang, useCatalogs, setLangButton } from '../i18n.js';
import { getJSON } from '../api.js';
import { $, announce } from '../dom.js';
import * as session from './session.js';
import * as actions from './actionqueue.js';
import { initLogin, showLogin } from './login.js';
import { initCrew, showCrew, reloadCrew, relocalizeCrew } from './crew.js';
import { initDetail, openDetail, closeDetail } from './detail.js';
import { initDispatch, showDispatch, SECTIONS } from './dispatch.js';
import { initAnalyst, showAnalyst, leaveAnalyst } from './analyst.js';
import { initSearch, showSearch, relocalizeSearch } from './search.js';
import { renderOutbox } from './outboxpanel.js';
import { forgetStaffData } from './offlinecache.js';
import { keepOffline, loadedAppFiles } from '../keepoffline.js';

const DEFAULT_CONFIG = {
  map: { center: [48.1374, 11.5755], zoom: 12, tile_url: '', tile_attribution: '', data_attribution_short: '' },
};
let config = DEFAULT_CONFIG;
let offline = !navigator.onLine;

function route(path) {
  if (path === '/crew') return { view: 'crew' };
  if (path === '/analyst') return { view: 'analyst' };
  let m = path.match(/^\/crew\/reports\/([^/]+)$/);
  if (m) return { view: 'crew', detail: decodeURIComponent(m[1]) };
  m = path.match(/^\/dispatch\/reports\/([^/]+)$/);
  if (m) return { view: 'dispatch', detail: decodeURIComponent(m[1]) };
  m = path.match(/^\/dispatch(?:\/([a-z]+))?\/?$/);
  if (m) return { view: 'dispatch', section: SECTIONS.includes(m[1]) ? m[1] : 'triage' };
  return { view: 'login' };
}

/** Where this user may not go, the page to go instead (null = stay). */
function redirectFor({ view }, user) {
  if (view === 'login') return user && session.homeFor(user) ? session.homeFor(user) : null;
  if (!user) return `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
  if (view === 'crew' && !session.canWorkQueue(user)) return '/login';
  if (view === 'dispatch' && !session.canDispatch(user)) return session.homeFor(user) || '/login';
  if (view === 'analyst' && !session.canAnalyse(user)) return session.homeFor(user) || '/login';
  return null;
}

let currentView = null;

function render({ focus = true } = {}) {
  const r = route(location.pathname);
  const user = session.currentUser();
  const redirect = redirectFor(r, user);
  if (redirect && redirect !== location.pathname + location.search) {
    history.replaceState({}, '', redirect);
    render({ focus });
    return;
  }
  const changed = `${r.view}:${r.section || ''}:${r.detail || ''}` !== currentView;
  currentView = `${r.view}:${r.section || ''}:${r.detail || ''}`;
  renderHeader(user, r.view);
  showSearch(r.view, { detail: Boolean(r.detail) });
  for (const section of document.querySelectorAll('main > [data-view]')) {
    section.hidden = section.dataset.view !== r.view || Boolean(r.detail);
  }
  $('#report-detail').hidden = !r.detail;
  document.title = `${t(`staff.page.${r.view}`)} – ${t('staff.title')}`;
  if (r.detail) {
    openDetail(r.detail, { back: r.view === 'crew' ? '/crew' : '/dispatch', focus: focus && changed });
    return;
  }
  closeDetail();
  if (r.view === 'login') showLogin(user);
  if (r.view === 'crew') showCrew();
  if (r.view === 'dispatch') showDispatch(r.section, { focus: focus && changed });
  if (r.view === 'analyst') showAnalyst();
  else leaveAnalyst();
  if (focus && changed && r.view !== 'dispatch') $(`#${r.view}-title`)?.focus();
}

function renderHeader(user, view) {
  const loggedIn = Boolean(user);
  $('#logout').hidden = !loggedIn;
  $('#staff-user').hidden = !loggedIn;
  $('#staff-user').textContent = loggedIn ? t('staff.user', {
    name: user.display_name || user.username,
    departments: (user.departments || []).map((d) => d.name || d.code).join(', ') || t(`role.${user.role}`),
  }) : '';
  const links = [...document.querySelectorAll('[data-nav]')];
  const may = { crew: session.canWorkQueue, dispatch: session.canDispatch, analyst: session.canAnalyse };
  for (const link of links) link.hidden = !may[link.dataset.nav](user);
  // One screen needs no navigation.
  $('#staff-nav').hidden = !loggedIn || links.filter((link) => !link.hidden).length < 2;
  for (const link of links) {
    if (link.dataset.nav === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  $('#staff-home').setAttribute('href', session.homeFor(user) || '/login');
}

export function navigate(path, { replace = false } = {}) {
  if (path !== location.pathname + location.search) history[replace ? 'replaceState' : 'pushState']({}, '', path);
  render();
}

const STAFF_PATH = /^\/(login|crew|dispatch|analyst)(\/|$)/;
document.addEventListener('click', (e) => {
  const a = e.target.closest('a[href^="/"]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || a.target) return;
  const url = new URL(a.href);
  if (!STAFF_PATH.test(url.pathname)) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', () => render());

// ---------------------------------------------------------------- connection

function renderOffline() {
  const el = $('#offline-status');
  el.hidden = !offline;
  el.textContent = offline ? t('staff.offline') : '';
}

async function flushActions() {
  const user = session.currentUser();
  if (!user) return;
  const outcomes = await actions.flush(user.username);
  const sent = outcomes.filter((o) => o.outcome === 'sent').length;
  const failed = outcomes.filter((o) => o.outcome === 'failed').length;
  if (sent) announce(t('outbox.actionsSent', { n: sent }));
  if (failed) announce(t('outbox.actionsRefused', { n: failed }), { error: true });
  if (sent || failed) reloadCrew();
}

window.addEventListener('online', async () => {
  offline = false;
  renderOffline();
  await flushActions();
  reloadCrew();
});
window.addEventListener('offline', () => { offline = true; renderOffline(); });

// Kept for later (offline): the browser sends them when the connection is back, even if the
// app is closed by then (Background Sync in the service worker).
actions.events.addEventListener('kept', () => actions.registerSync());

// The service worker precaches only the citizen app: once someone works here, it keeps the
// staff shell and everything this page loaded (modules, texts, styles, leaflet.heat), so the
// staff app opens offline after one online session; the cost falls on staff devices only.
function keepStaffApp() {
  if (session.currentUser()) keepOffline(['/login', ...loadedAppFiles()]);
}

// Actions kept while the session had expired go out with the new one.
session.events.addEventListener('login', () => { renderOutbox(); flushActions(); keepStaffApp(); });

session.events.addEventListener('expired', () => {
  if (route(location.pathname).view === 'login') return;
  announce(t('staff.expired'), { error: true });
  navigate(`/login?next=${encodeURIComponent(location.pathname)}`, { replace: true });
});

// ---------------------------------------------------------------- language, logout

async function switchLanguage() {
  const next = getLang() === 'de' ? 'en' : 'de';
  await loadLang(next);
  localStorage.setItem('mm.lang', next);
  keepStaffApp(); // with the texts of the language chosen
  applyTexts();
  setLangButton();
  renderOffline();
  renderOutbox();
  relocalizeCrew();
  relocalizeSearch();
  currentView = null;
  render({ focus: false }); // fetches again: names of categories and departments follow the language
  announce(t('lang.switched'));
}

async function logOut() {
  const user = session.currentUser();
  let waiting = 0;
  try { waiting = user ? (await actions.waiting(user.username)).length : 0; } catch { /* no IndexedDB */ }
  // Queued actions belong to this user and need this session: leaving loses them on this device.
  if (waiting && !window.confirm(t('staff.logoutWaiting', { n: waiting }))) return;
  await session.logout();
  await forgetStaffData(user?.username);
  announce(t('staff.loggedOut'));
  navigate('/login', { replace: true });
}

// ---------------------------------------------------------------- start

async function start() {
  useCatalogs(['staff']);
  // Texts, configuration and session at once (each used to wait for the one before).
  // The staff app's texts exist in German and English (a citizen's choice of another is not kept here).
  const texts = loadLang(initialLang(['de', 'en'])).catch(() => loadLang('de'));
  const configured = getJSON('/api/v1/config').catch(() => null); // offline without a copy: the default map
  const who = session.loadSession().then((value) => ({ value }), (error) => ({ error }));
  await texts;
  applyTexts();
  setLangButton();
  $('#lang-switch').addEventListener('click', switchLanguage);
  $('#logout').addEventListener('click', logOut);
  config = { ...DEFAULT_CONFIG, ...((await configured) || {}) };
  let state = { user: null, offline: false };
  const answer = await who;
  if (answer.error) announce(t('common.loadFailed'), { error: true });
  else state = answer.value;
  offline = offline || state.offline;
  renderOffline();
  initLogin(navigate);
  initCrew(config, navigate);
  initDetail(navigate);
  initDispatch();
  initAnalyst(config);
  initSearch();
  render({ focus: false });
  renderOutbox();
  if (!offline) flushActions();

  if ('serviceWorker' in navigator) {
    // The service worker sent queued actions while this page was away or in the background.
    navigator.serviceWorker.addEventListener('message', (e) => {
      if (e.data?.type !== 'crew-actions') return;
      actions.events.dispatchEvent(new Event('change'));
      if (e.data.outcome === 'sent' || e.data.outcome === 'failed') reloadCrew();
    });
    try { await navigator.serviceWorker.register('/sw.js', { scope: '/', type: 'module' }); } catch (error) { console.warn('sw', error); }
    keepStaffApp();
    // A new worker version starts with only the citizen app: give it the staff app again.
    navigator.serviceWorker.addEventListener('controllerchange', keepStaffApp);
  }
}

start();
