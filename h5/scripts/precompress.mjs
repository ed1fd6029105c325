// Writes .br and .gz next to the built JS/CSS/HTML so the server can send them precompressed
// (Brotli roughly halves the entry bundle on a slow mobile link; see README.md).
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const root = process.argv[2] || 'dist/build/h5';
let raw = 0;
let br = 0;
function walk(dir) {
    for (const name of readdirSync(dir)) {
        const file = join(dir, name);
        if (statSync(file).isDirectory()) walk(file);
        else if (/\.(js|css|html|json|svg)$/.test(name) && statSync(file).size > 1024) {
            const data = readFileSync(file);
            const b = brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
            writeFileSync(`${file}.br`, b);
            writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
            raw += data.length;
            br += b.length;
        }
    }
}
walk(root);
console.log(`precompressed ${root}: ${raw} bytes → ${br} bytes brotli`);
