// Where a report can be forwarded to. Dispatchers read the departments from the city
// configuration; the report detail lists them for everyone; without either (an old cached
// detail), crew forward to central triage, which routes it on.
import { t, getLang } from '../i18n.js';
import { getStaff, currentUser, canDispatch } from './session.js';

export const TRIAGE = 'anliegenmanagement';
let cityPromise = null;

/** The city configuration (dispatcher/admin), fetched once per page and language. */
export function loadCity({ fresh = false } = {}) {
  if (fresh || !cityPromise) {
    cityPromise = getStaff('/api/v1/admin/city');
    cityPromise.catch(() => { cityPromise = null; });
  }
  return cityPromise;
}

export const localName = (item) => (getLang() === 'en' ? item.name_en || item.name_de : item.name_de || item.name_en) || item.code;

/** [{code, name}] of active departments other than `except` (the report's own list when the
 * server sent one with the report). */
export async function departmentChoices(except, targets = null) {
  if (Array.isArray(targets)) return targets.filter((d) => d.code !== except);
  if (canDispatch(currentUser())) {
    try {
      const city = await loadCity();
      return city.departments.filter((d) => d.active !== false && d.code !== except)
        .map((d) => ({ code: d.code, name: localName(d) }));
    } catch { /* offline: fall through to triage */ }
  }
  return except === TRIAGE ? [] : [{ code: TRIAGE, name: t('forward.triage') }];
}
