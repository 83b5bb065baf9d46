// Response templates in the status forms (issue 20.1): a labelled select of the templates the
// server filled in for this report and target status; picking one fills the public note in
// the reporter's language (editable: what is sent is what stands in the note), and a line
// says which language the reporter reads.
import { h } from '../dom.js';
import { t, getLang } from '../i18n.js';
import { getStaff } from './session.js';
import { field } from './fields.js';

function languageName(code) {
  try { return new Intl.DisplayNames([getLang()], { type: 'language' }).of(code) || code; } catch { return code; }
}

/** A template field for `report` moving to `status` that fills `note`; hidden until the
 * server answers with at least one template (offline: simply absent). */
export function templatePicker(report, status, note, prefix) {
  const select = h('select', { name: 'template' }, h('option', { value: '', text: t('template.none') }));
  const wrap = field(`${prefix}-template`, 'template.label', select, { hintKey: 'template.hint' });
  const language = h('p', { class: 'hint', id: `${prefix}-template-language`, 'aria-live': 'polite' });
  wrap.append(language);
  wrap.hidden = true;
  let templates = [];
  getStaff(`/api/v1/staff/reports/${encodeURIComponent(report.id)}/templates?status=${encodeURIComponent(status)}`)
    .then((data) => {
      templates = data.templates || [];
      if (!templates.length) return;
      select.append(...templates.map((tpl) => h('option', { value: String(tpl.id), text: tpl.name })));
      language.textContent = t('template.reporterLanguage', { language: languageName(data.reporter_language) });
      wrap.hidden = false;
    })
    .catch(() => { wrap.hidden = true; });
  select.addEventListener('change', () => {
    const chosen = templates.find((tpl) => String(tpl.id) === select.value);
    if (!chosen) return;
    note.value = chosen.reporter.text;
    note.dispatchEvent(new Event('input'));
  });
  return wrap;
}
