// Read the GPS position from a JPEG's EXIF block in the browser, before the photo is
// downscaled (re-encoding drops EXIF, so the server never sees where the photo was taken).
// Only the first 128 KB are read; anything malformed simply yields null.
const HEAD_BYTES = 128 * 1024;

export async function photoLocation(file) {
  try {
    const view = new DataView(await file.slice(0, HEAD_BYTES).arrayBuffer());
    return parseJpeg(view);
  } catch {
    return null;
  }
}

function parseJpeg(view) {
  if (view.getUint16(0) !== 0xffd8) return null;
  let offset = 2;
  while (offset + 4 <= view.byteLength) {
    const marker = view.getUint16(offset);
    const size = view.getUint16(offset + 2);
    if (marker === 0xffe1 && view.getUint32(offset + 4) === 0x45786966) { // "Exif"
      return parseTiff(view, offset + 10);
    }
    if ((marker & 0xff00) !== 0xff00 || marker === 0xffda) return null; // image data begins
    offset += 2 + size;
  }
  return null;
}

function parseTiff(view, start) {
  const little = view.getUint16(start) === 0x4949;
  const u16 = (o) => view.getUint16(start + o, little);
  const u32 = (o) => view.getUint32(start + o, little);
  const ifd0 = u32(4);
  const gpsIfd = findTag(u16, u32, ifd0, 0x8825);
  if (gpsIfd === null) return null;
  const entries = {};
  const count = u16(gpsIfd);
  for (let i = 0; i < count; i++) {
    const entry = gpsIfd + 2 + i * 12;
    const tag = u16(entry);
    const type = u16(entry + 2);
    if (tag === 1 || tag === 3) entries[tag] = String.fromCharCode(view.getUint8(start + entry + 8));
    if ((tag === 2 || tag === 4) && type === 5) entries[tag] = dms(u32, u32(entry + 8));
  }
  if (entries[2] == null || entries[4] == null || !entries[1] || !entries[3]) return null;
  const lat = entries[2] * (entries[1] === 'S' ? -1 : 1);
  const lon = entries[4] * (entries[3] === 'W' ? -1 : 1);
  if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  if (lat === 0 && lon === 0) return null;
  return { lat, lon };
}

function findTag(u16, u32, ifd, wanted) {
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (u16(entry) === wanted) return u32(entry + 8);
  }
  return null;
}

function dms(u32, at) {
  const part = (i) => {
    const den = u32(at + i * 8 + 4);
    return den ? u32(at + i * 8) / den : NaN;
  };
  return part(0) + part(1) / 60 + part(2) / 3600;
}
