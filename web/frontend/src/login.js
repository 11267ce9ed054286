// The login page: POST the credentials as JSON to /api/session, which sets the session cookie.

import { bindLangSwitch, initLang, t } from './i18n.js';
import { api, errorText, readConfig } from './util.js';

const config = readConfig();
initLang(config.lang);
bindLangSwitch();

const form = document.getElementById('login-form');
const error = document.getElementById('login-error');

/** Where to go once logged in: a same-site `?next=/path`, else the incident list. */
function nextUrl() {
  const next = new URLSearchParams(location.search).get('next');
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/incidents';
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.textContent = '';
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    await api('POST', '/api/session', { username: form.username.value.trim(), password: form.password.value });
    location.assign(nextUrl());
  } catch (err) {
    const badCredentials = err.status >= 400 && err.status < 500 && err.status !== 429;
    error.textContent = badCredentials ? t('login.failed') : errorText(err);
    form.password.select();
  } finally {
    button.disabled = false;
  }
});
