// Draws the app icons (PNG, no dependencies) so the manifest needs no remote or generated assets.
// Run once when the icon changes: node scripts/make-icons.mjs. The output is committed.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(size, maskable) {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  const pad = maskable ? 0 : size * 0.06;
  const r = size * 0.18;
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const u = x / size, v = y / size;
      // rounded square background
      const dx = Math.max(pad + r - x, 0, x - (size - pad - r));
      const dy = Math.max(pad + r - y, 0, y - (size - pad - r));
      const inside = maskable || (x >= pad && y >= pad && x < size - pad && y < size - pad && dx * dx + dy * dy <= r * r);
      // a white grade-book grid (3 x 3 cells) with a tick in the last cell
      const inGrid = u > 0.22 && u < 0.78 && v > 0.22 && v < 0.78;
      const line = inGrid && (Math.abs(((u - 0.22) / 0.56) * 3 - Math.round(((u - 0.22) / 0.56) * 3)) < 0.09 || Math.abs(((v - 0.22) / 0.56) * 3 - Math.round(((v - 0.22) / 0.56) * 3)) < 0.09);
      const tick = u > 0.6 && u < 0.78 && v > 0.6 && v < 0.78 && (Math.abs((v - 0.69) - (u - 0.62)) < 0.02 && u < 0.66 || Math.abs((v - 0.73) + (u - 0.66) * 0.9) < 0.02 && u >= 0.645);
      const o = y * (size * 4 + 1) + 1 + x * 4;
      const [R, G, B, A] = !inside ? [0, 0, 0, 0] : line || tick ? [255, 255, 255, 255] : [29, 78, 137, 255];
      raw[o] = R; raw[o + 1] = G; raw[o + 2] = B; raw[o + 3] = A;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
writeFileSync('static/icons/icon-192.png', png(192, false));
writeFileSync('static/icons/icon-512.png', png(512, false));
writeFileSync('static/icons/maskable-512.png', png(512, true));
