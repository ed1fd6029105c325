import { request } from './http.js';

/** The file name of a Content-Disposition header: the UTF-8 `filename*` (Chinese names) before the ASCII `filename`. */
export function fileNameOf(disposition, fallback) {
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition || '');
  if (star) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''));
    } catch {
      /* a malformed escape: try the plain name */
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(disposition || '');
  return plain ? plain[1].trim() : fallback;
}

/** Fetches an export with the bearer token (a plain link could not send it) → `{blob, filename}`. */
export async function downloadExport(path, query, fallback) {
  const res = await request(path, { query, raw: true, headers: { Accept: '*/*' } });
  return { blob: await res.blob(), filename: fileNameOf(res.headers.get('content-disposition'), fallback) };
}

/** Hands a downloaded file to the browser. */
export function saveFile({ blob, filename }) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
