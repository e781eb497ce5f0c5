// Plots eval return vs env steps of the runs listed below (eval.csv: step,reward,seed) as an SVG,
// with no plotting dependency: node results/threads-vs-sync/plot.mjs
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const runs = [
  { file: 'sync-seed1.csv', label: 'runtime=sync', color: '#1f77b4' },
  { file: 'threads-2actors-seed1.csv', label: 'runtime=threads actors=2', color: '#d62728' },
].filter((r) => existsSync(path.join(here, r.file)));

const series = runs.map((r) => ({
  ...r,
  points: readFileSync(path.join(here, r.file), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number)),
}));
const W = 640, H = 400, L = 60, R = 20, T = 30, B = 50;
const maxX = Math.max(...series.flatMap((s) => s.points.map((p) => p[0])), 1);
const maxY = Math.max(1000, ...series.flatMap((s) => s.points.map((p) => p[1])));
const x = (v) => L + (v / maxX) * (W - L - R);
const y = (v) => H - B - (v / maxY) * (H - T - B);
const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
  `<rect width="${W}" height="${H}" fill="white"/>`,
  `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">cartpole-swingup: eval return vs env steps</text>`,
  `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`, `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`];
for (let v = 0; v <= maxY; v += 200) out.push(`<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`, `<line x1="${L}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" stroke="#eee"/>`);
const stepTick = maxX > 20000 ? 5000 : 2000;
for (let v = 0; v <= maxX; v += stepTick) out.push(`<text x="${x(v)}" y="${H - B + 16}" text-anchor="middle">${v / 1000}k</text>`);
out.push(`<text x="${W / 2}" y="${H - 12}" text-anchor="middle">env steps</text>`);
series.forEach((s, i) => {
  out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ')}"/>`);
  out.push(`<text x="${L + 10}" y="${T + 16 + 16 * i}" fill="${s.color}">${s.label}</text>`);
});
out.push('</svg>');
writeFileSync(path.join(here, 'eval-return.svg'), out.join('\n') + '\n');
console.log(`wrote eval-return.svg (${series.map((s) => s.label).join(', ')})`);
