// The app's IndexedDB, shared by the pages and the service worker (no DOM, no localStorage):
// "outbox" holds reports waiting to be sent, "mine" the reports sent from this device with
// their tracking tokens, so a report sent by Background Sync with the app closed is still
// listed under "My reports". "crew-actions" holds the staff app's actions taken offline
// (claim, start, resolve …), each with its Idempotency-Key, until the server has them.
const DB_NAME = 'maengelmelder';
const VERSION = 3;
export const OUTBOX = 'outbox';
export const MINE = 'mine';
export const CREW_ACTIONS = 'crew-actions';

let dbPromise = null;
function db() {
  dbPromise ??= new Promise((resolve, reject) => {
    const open = indexedDB.open(DB_NAME, VERSION);
    open.onupgradeneeded = () => {
      const names = open.result.objectStoreNames;
      if (!names.contains(OUTBOX)) open.result.createObjectStore(OUTBOX, { keyPath: 'key' });
      if (!names.contains(MINE)) open.result.createObjectStore(MINE, { keyPath: 'id' });
      if (!names.contains(CREW_ACTIONS)) open.result.createObjectStore(CREW_ACTIONS, { keyPath: 'key' });
    };
    open.onsuccess = () => {
      open.result.onversionchange = () => { open.result.close(); dbPromise = null; };
      resolve(open.result);
    };
    open.onerror = () => { dbPromise = null; reject(open.error); };
    open.onblocked = () => { dbPromise = null; reject(new Error('IndexedDB upgrade blocked')); };
  });
  return dbPromise;
}

/** Run fn(objectStore) in one transaction; resolves with the last request's result. */
export async function tx(store, mode, fn) {
  const database = await db();
  return new Promise((resolve, reject) => {
    const transaction = database.transaction(store, mode);
    const result = fn(transaction.objectStore(store));
    transaction.oncomplete = () => resolve(result && 'result' in result ? result.result : undefined);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}
