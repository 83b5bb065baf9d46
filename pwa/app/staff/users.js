// Admins: the staff accounts, and a form for a new one (role and departments).
import { h, $, announce } from '../dom.js';
import { t } from '../i18n.js';
import { call, getStaff } from './session.js';
import { loadCity, localName } from './departments.js';
import { field, input, select, requireFilled, showFormError, clearFormError } from './fields.js';

const ROLES = ['crew', 'dispatcher', 'analyst', 'admin'];
let bound = false;

export function initUsers() {
  if (bound) return;
  bound = true;
  $('#new-user-form').addEventListener('submit', create);
}

const departmentNames = (user) => (user.departments || []).map((d) => (typeof d === 'string' ? d : d.name || d.code));

export async function showUsers() {
  let users;
  let city;
  try {
    [users, city] = await Promise.all([getStaff('/api/v1/admin/users'), loadCity()]);
  } catch (error) {
    announce(error instanceof TypeError ? t('common.offline') : t('common.loadFailed'), { error: true });
    return;
  }
  const list = Array.isArray(users) ? users : users.users || users.items || [];
  $('#users-body').replaceChildren(...list.map((user) => h('tr', { dataset: { username: user.username } },
    h('th', { scope: 'row', text: user.username }),
    h('td', { text: user.display_name || '' }),
    h('td', { text: t(`role.${user.role}`) }),
    h('td', { text: departmentNames(user).join(', ') }))));
  const form = $('#new-user-form');
  if (!form.querySelector('[name="username"]')) {
    $('#new-user-fields').replaceChildren(
      field('new-user-username', 'users.col.username', input('username', { autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' }), { required: true }),
      field('new-user-display-name', 'users.col.displayName', input('display_name', { autocomplete: 'off' }), { required: true }),
      field('new-user-password', 'users.password', input('password', { type: 'password', autocomplete: 'new-password' }), { hintKey: 'users.passwordHint', required: true }),
      field('new-user-role', 'users.col.role', select('role', ROLES.map((r) => [r, t(`role.${r}`)])), { required: true }),
    );
  }
  $('#new-user-departments').replaceChildren(...city.departments.map((d) => field(
    `new-user-dept-${d.code}`, null, h('input', { type: 'checkbox', name: 'departments', value: d.code }),
    { label: localName(d) })));
  clearFormError(form);
}

async function create(e) {
  e.preventDefault();
  const form = e.currentTarget;
  if (!requireFilled(form)) return;
  const value = (name) => form.querySelector(`[name="${name}"]`).value.trim();
  const body = {
    username: value('username'), display_name: value('display_name'),
    password: form.querySelector('[name="password"]').value, role: value('role'),
    departments: [...form.querySelectorAll('[name="departments"]:checked')].map((c) => c.value),
  };
  try {
    await call('/api/v1/admin/users', { method: 'POST', json: body });
    announce(t('users.created', { name: body.username }));
    form.reset();
    await showUsers();
  } catch (error) {
    showFormError(form, error);
  }
}
