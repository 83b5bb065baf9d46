// Shared wording for the staff screens: priorities, ages, people, places.
import { t, getLang, formatDistance } from '../i18n.js';

export const priorityLabel = (priority) => t(`priority.${priority}`);

/** "3 days ago" style age of a timestamp. */
export function ageText(value) {
  const then = new Date(value).getTime();
  if (Number.isNaN(then)) return '';
  const seconds = Math.round((then - Date.now()) / 1000);
  const format = new Intl.RelativeTimeFormat(getLang(), { numeric: 'auto' });
  const steps = [['day', 86400], ['hour', 3600], ['minute', 60]];
  for (const [unit, size] of steps) {
    if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
  }
  return format.format(0, 'minute');
}

export const personName = (person) => (person ? person.display_name || person.username : '');

/** District and address in one line. */
export function placeText(item) {
  return [item.district ? `${item.district.number} ${item.district.name}` : null, item.address]
    .filter(Boolean).join(' · ');
}

export const distanceText = (meters) => t('queue.distance', { distance: formatDistance(meters) });
