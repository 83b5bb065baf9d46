// The staff session: who is logged in, the CSRF token, and the one call helper that adds the
// token to every non-GET request (the session cookie itself is HttpOnly and sent by the browser).
import { request, ApiError } from '../api.js';

const USER_KEY = 'mm.staff.user'; // last known user, so the crew app opens offline
const CSRF_KEY = 'mm.staff.csrf'; // per tab; refreshed from /auth/me when missing

let user = null;
let csrfToken = null;

/** 'expired' fires when the server answers 401 to a logged-in page; 'login' after a login. */
export const events = new EventTarget();

export const currentUser = () => user;
export const csrf = () => csrfToken;

function remember(data) {
  user = data.user;
  csrfToken = data.csrf_token;
  try {
    localStorage.setItem(USER_KEY, JSON.stringify(user));
    sessionStorage.setItem(CSRF_KEY, csrfToken);
  } catch { /* private mode: memory only */ }
}

function forget() {
  user = null;
  csrfToken = null;
  try {
    localStorage.removeItem(USER_KEY);
    sessionStorage.removeItem(CSRF_KEY);
  } catch { /* ignore */ }
}

function storedUser() {
  try {
    return JSON.parse(localStorage.getItem(USER_KEY) || 'null');
  } catch { return null; }
}

/**
 * Ask the server who is logged in. Returns {user, offline}: offline=true when the server is
 * unreachable and the last known user is used instead (null user = not logged in).
 */
export async function loadSession() {
  try {
    const { data } = await request('/api/v1/auth/me');
    if (!data.user) { // nobody logged in (answered without an error)
      forget();
      return { user: null, offline: false };
    }
    remember(data);
    return { user, offline: false };
  } catch (error) {
    if (error instanceof TypeError) {
      user = storedUser();
      try { csrfToken = sessionStorage.getItem(CSRF_KEY); } catch { csrfToken = null; }
      return { user, offline: true };
    }
    if (error.status === 401) {
      forget();
      return { user: null, offline: false };
    }
    throw error;
  }
}

/** Log in; throws ApiError (401 invalid_credentials, 429 rate_limited with retryAfter). */
export async function login(username, password) {
  const { data } = await request('/api/v1/auth/login', { method: 'POST', json: { username, password } });
  remember(data);
  events.dispatchEvent(new Event('login'));
  return user;
}

/** Log out on the server (best effort) and forget the user here. */
export async function logout() {
  try {
    await request('/api/v1/auth/logout', { method: 'POST', json: {}, headers: csrfHeader() });
  } catch { /* offline or already expired: the local state goes anyway */ }
  forget();
}

function csrfHeader() {
  return csrfToken ? { 'X-CSRF-Token': csrfToken } : {};
}

/** A fresh CSRF token from /auth/me (after a csrf_failed answer or in a new tab). */
export async function refreshCsrf() {
  const { data } = await request('/api/v1/auth/me');
  if (!data.user) { // the session ended meanwhile: as a 401 would say
    throw new ApiError(401, { error: { code: 'not_authenticated', message: 'Please log in.' } });
  }
  remember(data);
  return csrfToken;
}

/** The token to send, fetched once if this tab has none yet (throws offline). */
export async function ensureCsrf() {
  return csrfToken || refreshCsrf();
}

/**
 * An API call as the logged-in user: like api.request, plus the CSRF header on non-GET
 * requests, one retry with a fresh token after csrf_failed, and an 'expired' event on 401.
 */
export async function call(path, options = {}) {
  const method = (options.method || 'GET').toUpperCase();
  const attempt = async () => request(path, {
    ...options,
    headers: { ...(options.headers || {}), ...(method === 'GET' ? {} : { 'X-CSRF-Token': await ensureCsrf() }) },
  });
  try {
    return await attempt();
  } catch (error) {
    if (error instanceof ApiError && error.status === 403 && error.code === 'csrf_failed') {
      await refreshCsrf();
      return attempt();
    }
    if (error instanceof ApiError && error.status === 401) events.dispatchEvent(new Event('expired'));
    throw error;
  }
}

export const getStaff = async (path) => (await call(path)).data;

/** The page for this user's role after login. */
export function homeFor(someone) {
  if (!someone) return '/login';
  if (someone.role === 'crew') return '/crew';
  if (someone.role === 'dispatcher' || someone.role === 'admin') return '/dispatch';
  if (someone.role === 'analyst') return '/analyst';
  return null; // a role this app does not know
}

export const canDispatch = (someone) => ['dispatcher', 'admin'].includes(someone?.role);
export const canAnalyse = (someone) => ['analyst', 'dispatcher', 'admin'].includes(someone?.role);
export const canWorkQueue = (someone) => ['crew', 'dispatcher', 'admin'].includes(someone?.role);
export const isAdmin = (someone) => someone?.role === 'admin';
