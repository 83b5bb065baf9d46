// Asks the service worker to keep, for offline use, files it does not precache: the staff app
// once someone logged in (everything the page loaded), the language a visitor chose. Best
// effort: without a service worker nothing happens.

/** Ask the active service worker to keep these same-origin URLs (it checks what it keeps). */
export async function keepOffline(urls) {
  if (!('serviceWorker' in navigator)) return;
  const registration = await navigator.serviceWorker.ready;
  registration.active?.postMessage({ type: 'keep', urls: [...new Set(urls)] });
}

/** The app files (modules, styles, texts, scripts, images) this page has loaded so far. */
export function loadedAppFiles() {
  const paths = [];
  for (const entry of performance.getEntriesByType('resource')) {
    const url = new URL(entry.name);
    if (url.origin === location.origin && /^\/(app|vendor)\//.test(url.pathname)) paths.push(url.pathname);
  }
  return paths;
}
