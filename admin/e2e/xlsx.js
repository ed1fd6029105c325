import zlib from 'node:zlib';

/** The files of a zip (an .xlsx is one), read from its central directory: name → Buffer. */
function unzip(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('not a zip file');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const files = {};
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + size);
    files[name] = method === 8 ? zlib.inflateRawSync(data) : data;
    p += 46 + nameLen + extraLen + commentLen;
  }
  return files;
}

const unescape = (s) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

/**
 * The first sheet as rows of cells `{ref, text?, number?, style}` (inline strings and numbers, as DMH writes them),
 * plus the number format of each style.
 */
export function readXlsx(buf) {
  const files = unzip(buf);
  const sheet = files['xl/worksheets/sheet1.xml'].toString('utf8');
  const styles = files['xl/styles.xml'].toString('utf8');
  const custom = Object.fromEntries([...styles.matchAll(/<numFmt numFmtId="(\d+)" formatCode="([^"]+)"/g)].map((m) => [m[1], m[2]]));
  const xfs = [
    ...styles
      .replace(/[\s\S]*<cellXfs[^>]*>/, '')
      .replace(/<\/cellXfs>[\s\S]*/, '')
      .matchAll(/<xf numFmtId="(\d+)"/g),
  ].map((m) => custom[m[1]] || { 0: 'General', 2: '0.00', 49: '@' }[m[1]]);
  const rows = [];
  for (const row of sheet.matchAll(/<row [^>]*>([\s\S]*?)<\/row>/g)) {
    const cells = [];
    for (const c of row[1].matchAll(/<c r="([A-Z]+)\d+"(?: s="(\d+)")?( t="inlineStr")?>([\s\S]*?)<\/c>/g)) {
      const [, col, s, inline, body] = c;
      const index = [...col].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0) - 1;
      const format = xfs[Number(s || 0)];
      cells[index] = inline
        ? { text: unescape(/<t[^>]*>([\s\S]*?)<\/t>/.exec(body)[1]), format }
        : { number: Number(/<v>([^<]*)<\/v>/.exec(body)[1]), format };
    }
    rows.push(cells);
  }
  return rows;
}

/** An Excel serial date-time → "yyyy-mm-dd hh:mm:ss" (the wall time written, no zone). */
export function serialToText(serial) {
  const ms = Math.round((serial - 25569) * 86400) * 1000;
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
