// The login form: clear messages for wrong credentials, too many attempts (with the wait from
// Retry-After, counted down) and no connection; then on to the screen for the user's role.
import { $ } from '../dom.js';
import { t } from '../i18n.js';
import { login, homeFor, canDispatch, canWorkQueue, canAnalyse } from './session.js';

let navigate = () => {};
let countdown = null;
let bound = false;

export function initLogin(nav) {
  navigate = nav;
  if (bound) return;
  bound = true;
  $('#login-form').addEventListener('submit', onSubmit);
}

/** The login view; a logged-in user without a staff screen (unknown role) is told so. */
export function showLogin(user) {
  const noView = Boolean(user) && !homeFor(user);
  $('#login-no-view').hidden = !noView;
  if (noView) $('#login-no-view').textContent = t('login.noView');
}

function showError(text, fields = []) {
  const box = $('#login-error');
  box.textContent = text;
  box.hidden = !text;
  for (const id of ['username', 'password']) {
    $(`#${id}`).setAttribute('aria-invalid', fields.includes(id) ? 'true' : 'false');
  }
}

// Too many attempts: the message says how long; the button counts down and is off till then.
function startCountdown(seconds) {
  clearInterval(countdown);
  const until = Date.now() + seconds * 1000;
  const button = $('#login-submit');
  showError(t('login.rateLimited', { n: seconds }));
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left <= 0) {
      clearInterval(countdown);
      countdown = null;
      button.disabled = false;
      button.textContent = t('login.submit');
      showError('');
      return;
    }
    button.disabled = true;
    button.textContent = t('login.waitButton', { n: left });
  };
  tick();
  countdown = setInterval(tick, 1000);
}

async function onSubmit(e) {
  e.preventDefault();
  const username = $('#username').value.trim();
  const password = $('#password').value;
  const missing = [!username && 'username', !password && 'password'].filter(Boolean);
  if (missing.length) {
    showError(t('login.missing'), missing);
    $(`#${missing[0]}`).focus();
    return;
  }
  const button = $('#login-submit');
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    const user = await login(username, password);
    showError('');
    $('#password').value = '';
    const home = homeFor(user);
    if (!home) {
      $('#login-no-view').textContent = t('login.noView');
      $('#login-no-view').hidden = false;
      return;
    }
    const next = new URLSearchParams(location.search).get('next');
    navigate(next && allowed(user, next) ? next : home, { replace: true });
  } catch (error) {
    if (error instanceof TypeError) showError(t('login.offline'));
    else if (error.status === 429) startCountdown(error.retryAfter || 60);
    else if (error.status === 401) {
      showError(t('login.invalid'), ['username', 'password']);
      $('#password').value = '';
      $('#password').focus();
    } else showError(t('login.failed', { message: error.message }));
  } finally {
    if (!countdown) button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/** Only our own staff pages, and only those the role may use (no open redirect). */
function allowed(user, path) {
  if (/^\/dispatch(\/|$)/.test(path)) return canDispatch(user);
  if (/^\/analyst(\?|$)/.test(path)) return canAnalyse(user);
  return /^\/crew(\/|$)/.test(path) && canWorkQueue(user);
}
