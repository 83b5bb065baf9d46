// "Correct asset" (dispatchers and admins): which traffic signal or sign post a report is
// about. One radio group holds the choices: the nearest assets of the report's category group
// around its point (with their distance), the ones an asset number finds, and "no asset". The
// answer goes out like every staff action (the action queue: PUT with its own Idempotency-Key).
import { h, announce } from '../dom.js';
import { t, formatDistance } from '../i18n.js';
import { assetsIn, assetLabel, featureAsset, lookupAssets } from '../assets.js';
import { field, setError, clearFormError } from './fields.js';

const LIST_SIZE = 6;
const LIST_RADIUS_M = 200;

const metersBetween = (a, b) => {
  const rad = Math.PI / 180;
  const x = (b.lon - a.lon) * rad * Math.cos((a.lat + b.lat) / 2 * rad);
  return Math.hypot(x, (b.lat - a.lat) * rad) * 6371000;
};

/** The nearest active assets of `group` around the point, [{asset, distance}], nearest first. */
async function nearbyAssets(group, here) {
  const dLat = LIST_RADIUS_M / 111320;
  const dLon = dLat / Math.cos(here.lat * Math.PI / 180);
  const found = await assetsIn(group, [here.lon - dLon, here.lat - dLat, here.lon + dLon, here.lat + dLat]);
  return (found?.features || []).map((f) => {
    const asset = featureAsset(f);
    return { asset, distance: metersBetween(here, asset.location) };
  }).filter((x) => x.distance <= LIST_RADIUS_M).sort((a, b) => a.distance - b.distance).slice(0, LIST_SIZE);
}

function option(asset, { distance = null, current = null }) {
  const id = `asset-option-${asset.id}`;
  const isCurrent = current?.id === asset.id;
  return h('div', { class: 'check asset-option', dataset: { id: asset.id } },
    h('input', { type: 'radio', name: 'asset_id', id, value: String(asset.id), checked: isCurrent }),
    h('label', { for: id },
      assetLabel(asset),
      distance != null ? h('span', { class: 'hint', text: ` – ${formatDistance(distance)}` }) : null,
      isCurrent ? h('span', { class: 'hint', text: ` (${t('assetfix.isCurrent')})` }) : null));
}

/** The form for `report` (the staff detail JSON); `form.collect()` resolves to the action. */
export function assetForm(report) {
  const current = report.asset || null;
  const group = report.category?.group;
  const shown = new Set(); // asset ids with a radio
  const list = h('div', { class: 'asset-options', id: 'asset-options' });
  const status = h('p', { class: 'hint', id: 'asset-nearby-status', 'aria-live': 'polite', text: t('assetfix.loading') });
  const none = current
    ? h('div', { class: 'check' },
      h('input', { type: 'radio', name: 'asset_id', id: 'asset-option-none', value: 'none' }),
      h('label', { for: 'asset-option-none', text: t('assetfix.none') }))
    : null;
  const choice = h('fieldset', { id: 'asset-choice', class: 'check-group asset-choice', role: 'radiogroup',
    'aria-describedby': 'asset-choice-error' },
  h('legend', { text: t('assetfix.choose') }),
  h('p', { class: 'hint', text: current ? t('assetfix.current', { name: assetLabel(current) }) : t('assetfix.currentNone') }),
  list, status, none,
  h('p', { class: 'field-error', id: 'asset-choice-error', hidden: true }));
  const number = h('input', { type: 'text', name: 'number', autocomplete: 'off', spellcheck: 'false' });
  const lookup = h('button', { type: 'button', class: 'btn btn-secondary', id: 'asset-fix-lookup', text: t('assetfix.lookup') });
  const form = h('form', { class: 'asset-form' }, choice,
    field('asset-fix-number', 'assetfix.number', number, { hintKey: 'assetfix.numberHint' }),
    h('div', { class: 'button-row' }, lookup));

  const add = (entries, { first = false } = {}) => {
    const fresh = entries.filter(({ asset }) => !shown.has(asset.id));
    for (const { asset } of fresh) shown.add(asset.id);
    const nodes = fresh.map(({ asset, distance }) => option(asset, { distance, current }));
    if (first) list.prepend(...nodes); else list.append(...nodes);
  };
  const pick = (id) => {
    const radio = form.querySelector(`input[name="asset_id"][value="${CSS.escape(String(id))}"]`);
    if (radio) { radio.checked = true; radio.focus(); }
  };

  // The current asset first (also when it is farther away or retired), then the nearest ones.
  if (current) add([{ asset: current, distance: null }]);
  if (group && report.lat != null) {
    nearbyAssets(group, { lat: Number(report.lat), lon: Number(report.lon) }).then((near) => {
      add(near);
      status.textContent = near.length ? t('assetfix.nearbyFound', { n: near.length, distance: formatDistance(LIST_RADIUS_M) })
        : t('assetfix.nearbyNone', { distance: formatDistance(LIST_RADIUS_M) });
    }, (error) => {
      status.textContent = error instanceof TypeError ? t('common.offline') : t('assetfix.nearbyNone', { distance: formatDistance(LIST_RADIUS_M) });
    });
  } else {
    status.textContent = t('assetfix.nearbyNone', { distance: formatDistance(LIST_RADIUS_M) });
  }

  /** Look the number up: one match is chosen, several are offered; true when one is chosen. */
  const findNumber = async () => {
    const wanted = number.value.trim();
    setError(number, null);
    if (!wanted) { setError(number, t('common.fieldRequired')); number.focus(); return false; }
    let found;
    try {
      found = group ? await lookupAssets(group, wanted) : [];
    } catch (error) {
      setError(number, error instanceof TypeError ? t('common.offline') : t('assetfix.lookupFailed'));
      number.focus();
      return false;
    }
    if (!found.length) {
      setError(number, t('assetfix.notFound', { number: wanted }));
      number.focus();
      announce(t('assetfix.notFound', { number: wanted }), { error: true });
      return false;
    }
    add(found.map((asset) => ({ asset, distance: null })), { first: true });
    setError(choice, null);
    if (found.length === 1) {
      pick(found[0].id);
      announce(t('assetfix.found', { name: assetLabel(found[0]) }));
      return true;
    }
    form.querySelector(`input[value="${found[0].id}"]`)?.focus();
    announce(t('assetfix.several', { n: found.length }));
    return false;
  };
  lookup.addEventListener('click', () => findNumber());
  number.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); findNumber(); } // a lookup, not the submit
  });

  form.collect = async () => {
    clearFormError(form);
    setError(choice, null);
    let chosen = form.querySelector('input[name="asset_id"]:checked');
    if (!chosen && number.value.trim()) {
      if (!(await findNumber())) return null;
      chosen = form.querySelector('input[name="asset_id"]:checked');
    }
    if (!chosen) {
      setError(choice, t('assetfix.chooseOne'));
      (form.querySelector('input[name="asset_id"]') || number).focus();
      announce(t('common.checkFields'), { error: true });
      return null;
    }
    const id = chosen.value === 'none' ? null : Number(chosen.value);
    return { action: 'asset', method: 'PUT', json: { asset_id: id } };
  };
  return form;
}
