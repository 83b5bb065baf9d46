// Shrink a picked photo in the browser: ≤ 2048 px on the long side, JPEG ~0.85, upright.
// Re-encoding also drops the EXIF data. Files the browser cannot decode (e.g. HEIC in
// Chromium) are sent unchanged; the server converts them.
const MAX_SIDE = 2048;
const QUALITY = 0.85;

export async function preparePhoto(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    return { blob: file, name: file.name || 'foto', resized: false };
  }
  try {
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    let blob;
    if (typeof OffscreenCanvas !== 'undefined') {
      const canvas = new OffscreenCanvas(width, height);
      const ctx = canvas.getContext('2d');
      ctx.fillStyle = '#fff'; // transparent PNGs become white, not black
      ctx.fillRect(0, 0, width, height);
      ctx.drawImage(bitmap, 0, 0, width, height);
      blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: QUALITY });
    } else {
      const canvas = document.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      const ctx = canvas.getContext('2d');
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, width, height);
      ctx.drawImage(bitmap, 0, 0, width, height);
      blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', QUALITY));
    }
    if (!blob) throw new Error('encode failed');
    const base = (file.name || 'foto').replace(/\.[^.]*$/, '');
    return { blob, name: `${base}.jpg`, resized: true, width, height };
  } catch {
    return { blob: file, name: file.name || 'foto', resized: false };
  } finally {
    bitmap.close?.();
  }
}
