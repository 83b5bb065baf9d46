// The dispatcher screen: the triage queue of central triage (what no rule routed) and the
// editors for routing rules, categories, departments and (admins) users and failed deliveries.
import { $, announce } from '../dom.js';
import { t } from '../i18n.js';
import { fetchQueue } from './queue.js';
import { renderQueueItems } from './queuelist.js';
import { TRIAGE } from './departments.js';
import { currentUser, isAdmin } from './session.js';
import { initRules, showRules } from './rules.js';
import { initCatalog, showCategories, showDepartments } from './catalog.js';
import { initUsers, showUsers } from './users.js';
import { initDeliveries, showDeliveries } from './deliveries.js';
import { initTemplates, showTemplates } from './templates.js';
import { initCallerReport, showCallerReport } from './callerreport.js';

export const SECTIONS = ['triage', 'caller', 'rules', 'categories', 'departments', 'users', 'templates', 'deliveries'];
const SHOW = { triage: showTriage, caller: showCallerReport, rules: showRules, categories: showCategories, departments: showDepartments, users: showUsers, templates: showTemplates, deliveries: showDeliveries };
const ADMIN_SECTIONS = ['users', 'templates', 'deliveries'];

export function initDispatch() {
  initRules();
  initCatalog();
  initUsers();
  initDeliveries();
  initTemplates();
  initCallerReport();
}

/** Show one section; returns the section actually shown (users and deliveries only for admins). */
export function showDispatch(section, { focus = true } = {}) {
  const admin = isAdmin(currentUser());
  if (ADMIN_SECTIONS.includes(section) && !admin) section = 'triage';
  for (const name of ADMIN_SECTIONS) $(`[data-section-link="${name}"]`).hidden = !admin;
  for (const el of document.querySelectorAll('[data-section]')) el.hidden = el.dataset.section !== section;
  for (const link of document.querySelectorAll('[data-section-link]')) {
    if (link.dataset.sectionLink === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  SHOW[section]();
  if (focus) $(`#${section}-title`)?.focus();
  return section;
}

async function showTriage() {
  try {
    const { features, more } = await fetchQueue({ department: TRIAGE, sort: 'age' });
    $('#triage-summary').textContent = t(more ? 'triage.summaryMore' : 'triage.summary', { n: features.length });
    renderQueueItems($('#triage-list'), features, { base: '/dispatch/reports' });
  } catch (error) {
    if (error.status !== 401) announce(error instanceof TypeError ? t('common.offline') : t('common.loadFailed'), { error: true });
  }
}
