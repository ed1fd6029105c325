import { http } from './http.js';

/** Uploads a cover (png/jpeg/webp, ≤ 2 MiB) → `{url}`. */
export function uploadCover(file) {
  const fd = new FormData();
  fd.append('file', file);
  return http.post('/api/v1/uploads/covers', fd);
}
