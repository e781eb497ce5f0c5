// Plots eval return vs env steps for runtime=sync and runtime=threads (2 actors) as an SVG, with no
// plotting dependency: node results/threads-vs-sync/plot.mjs
// Reads every <mode>-seed<N>.csv here (tdmpc2's eval.csv format: step,reward,seed); draws each seed
// as a thin line and the mean over seeds (at the steps all seeds share) as a thick one.
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const modes = [
  { prefix: 'sync-seed', label: 'runtime=sync', color: '#1f77b4' },
  { prefix: 'threads-2actors-seed', label: 'runtime=threads actors=2', color: '#d62728' },
];
const readCurve = (file) => readFileSync(path.join(here, file), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));

for (const m of modes) {
  m.seeds = readdirSync(here).filter((f) => f.startsWith(m.prefix) && f.endsWith('.csv')).sort().map(readCurve);
  // Mean over seeds at each step every seed evaluated.
  const steps = m.seeds.length ? m.seeds[0].map((p) => p[0]).filter((s) => m.seeds.every((c) => c.some((p) => p[0] === s))) : [];
  m.mean = steps.map((s) => [s, m.seeds.reduce((acc, c) => acc + c.find((p) => p[0] === s)[1], 0) / m.seeds.length]);
}
const all = modes.flatMap((m) => m.seeds.flat());
const W = 640, H = 400, L = 60, R = 20, T = 30, B = 50;
const maxX = Math.max(...all.map((p) => p[0]), 1);
const maxY = Math.max(1000, ...all.map((p) => p[1]));
const x = (v) => L + (v / maxX) * (W - L - R);
const y = (v) => H - B - (v / maxY) * (H - T - B);
const polyline = (points, color, width, opacity) =>
  `<polyline fill="none" stroke="${color}" stroke-width="${width}" stroke-opacity="${opacity}" points="${points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ')}"/>`;
const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
  `<rect width="${W}" height="${H}" fill="white"/>`,
  `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">cartpole-swingup: eval return vs env steps (thin: seeds, thick: mean)</text>`,
  `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`, `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`];
for (let v = 0; v <= maxY; v += 200) out.push(`<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`, `<line x1="${L}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" stroke="#eee"/>`);
const stepTick = maxX > 20000 ? 5000 : 2000;
for (let v = 0; v <= maxX; v += stepTick) out.push(`<text x="${x(v)}" y="${H - B + 16}" text-anchor="middle">${v / 1000}k</text>`);
out.push(`<text x="${W / 2}" y="${H - 12}" text-anchor="middle">env steps</text>`);
modes.forEach((m, i) => {
  for (const c of m.seeds) out.push(polyline(c, m.color, 1, 0.35));
  out.push(polyline(m.mean, m.color, 2.5, 1));
  out.push(`<text x="${L + 10}" y="${T + 16 + 16 * i}" fill="${m.color}">${m.label} (${m.seeds.length} seed${m.seeds.length === 1 ? '' : 's'})</text>`);
});
out.push('</svg>');
writeFileSync(path.join(here, 'eval-return.svg'), out.join('\n') + '\n');
console.log(`wrote eval-return.svg (${modes.map((m) => `${m.label}: ${m.seeds.length} seeds`).join(', ')})`);
