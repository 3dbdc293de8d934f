/**
 * Merges bench:quality JSON outputs (e.g. budgets run as separate processes) into one report.
 *
 *   npx tsx scripts/quality-report.ts a.json b.json > report.md
 *
 * A row of a later file replaces the same setting's row of the same method in an earlier one,
 * and every row's paired difference is taken again against its setting's shipped row, so a
 * rerun of the shipped plan alone (after the schedules change) re-pairs all the others.
 */
import { readFile } from 'node:fs/promises'
import { repairRows, renderReport, type Row } from './lib/quality-report.ts'

const files = process.argv.slice(2)
if (files.length === 0) {
  process.stderr.write('usage: npx tsx scripts/quality-report.ts RESULTS.json [...]\n')
  process.exit(2)
}
const parts = await Promise.all(
  files.map(
    async (f) =>
      JSON.parse(await readFile(f, 'utf8')) as { setup: Record<string, unknown>; results: Row[] },
  ),
)
// a later file's row replaces an earlier one of the same setting and method (a partial rerun,
// bench:quality --only); the order of the methods within a budget is kept
const byKey = new Map<string, Row>()
for (const r of parts.flatMap((p) => p.results))
  byKey.set(`${r.steps}/${r.budget}/${r.method}/${r.variant ?? ''}`, r)
const rows = repairRows([...byKey.values()]).sort(
  (a, b) => b.steps - a.steps || a.budget - b.budget,
)
const minutes = parts.map((p) => Number(p.setup.minutes ?? 0))
process.stdout.write(
  renderReport(
    { ...parts[0].setup, minutes: minutes.map((m) => Number(m.toFixed(1))), runs: files.length },
    rows,
  ),
)
