// The staff queue: fetching it (network first; the service worker answers with the last copy
// offline) and the pure helpers that filter it to the map view and sort it like the server.
import { call } from './session.js';

const PRIORITY_RANK = { urgent: 0, high: 1, normal: 2, low: 3 };
export const PRIORITIES = ['urgent', 'high', 'normal', 'low'];
export const QUEUE_LIMIT = 500;

/**
 * GET /api/v1/staff/queue. Returns {features, more, cachedAt}: cachedAt is the time of the
 * copy the service worker answered with when the network was unreachable (else null).
 */
export async function fetchQueue({ bbox = null, sort = 'priority', near = null, department = null, status = null } = {}) {
  const params = new URLSearchParams({ sort, limit: String(QUEUE_LIMIT) });
  if (bbox) params.set('bbox', bbox.map((x) => x.toFixed(5)).join(','));
  if (sort === 'distance' && near) params.set('near', `${near.lat.toFixed(6)},${near.lon.toFixed(6)}`);
  else if (sort === 'distance') params.set('sort', 'priority');
  if (department) params.set('department', department);
  if (status) params.set('status', status);
  const { data, headers } = await call(`/api/v1/staff/queue?${params}`);
  return {
    features: data?.features || [],
    more: Boolean(data?.next_cursor),
    cachedAt: headers?.get('X-MM-Cached') || null,
  };
}

/** Is the feature inside [west, south, east, north]? */
export function inBounds(feature, [west, south, east, north]) {
  const [lon, lat] = feature.geometry.coordinates;
  return lon >= west && lon <= east && lat >= south && lat <= north;
}

/** Great-circle distance in metres. */
export function distanceMeters(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const x = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(x)));
}

const time = (value) => (value ? new Date(value).getTime() : Number.POSITIVE_INFINITY);

/** Sort like the server (priority: overdue, priority, due date; age: oldest; distance: nearest). */
export function sortFeatures(features, order, near = null) {
  const list = [...features];
  if (order === 'age') {
    list.sort((a, b) => time(a.properties.created_at) - time(b.properties.created_at));
  } else if (order === 'distance' && near) {
    const d = (f) => distanceMeters(near, { lat: f.geometry.coordinates[1], lon: f.geometry.coordinates[0] });
    list.sort((a, b) => d(a) - d(b));
  } else {
    list.sort((a, b) => {
      const p = a.properties;
      const q = b.properties;
      return (Number(Boolean(q.overdue)) - Number(Boolean(p.overdue)))
        || ((PRIORITY_RANK[p.priority] ?? 9) - (PRIORITY_RANK[q.priority] ?? 9))
        || (time(p.due_at) - time(q.due_at))
        || (time(p.created_at) - time(q.created_at));
    });
  }
  return list;
}
