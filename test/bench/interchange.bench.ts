// Interchange benchmark: planning a 2,000 x 50 CSV grade import, exporting 2,000 x 300 to CSV, XLSX and ODS.
// Goals (SPEC-import-export.md): import plan <= 1 s, CSV export <= 1 s, XLSX <= 3 s. Prints figures; never fails.
import { generateCourse } from '../fixtures/courses/generate.ts';
import { Gradebook } from '../../src/lib/domain/gradebook/index.ts';
import {
  exportGrades,
  exportToCsv,
  exportToOds,
  exportToXlsx,
  type GradeExport,
} from '../../src/lib/domain/interchange/grade-export.ts';
import { csvHeaders, planCsvImport, suggestMapping } from '../../src/lib/domain/interchange/grade-import.ts';
import { heapMB, percentile, report, timeRuns } from './util.ts';

const T = 1_800_000_000;

/** CPU milliseconds of one call: the machine is shared, so wall time alone overstates under load. */
function cpuMs(fn: () => unknown): number {
  const a = process.cpuUsage();
  fn();
  const b = process.cpuUsage(a);
  return (b.user + b.system) / 1000;
}

export async function run(): Promise<void> {
  // Import: export a 2,000 x 50 course, change every fifth grade, then plan the import of that file.
  const small = generateCourse({ students: 2000, items: 50, seed: 11 });
  const gbSmall = new Gradebook(small);
  const base = exportToCsv(exportGrades(small, gbSmall, { exportedAt: T, totals: false }));
  const lines = base.split('\r\n');
  const edited = lines
    .map((line, r) =>
      r === 0 || line === ''
        ? line
        : line
            .split(',')
            .map((c, i) => (i >= 2 && (r + i) % 5 === 0 && c !== '-' ? '0.00' : c))
            .join(','),
    )
    .join('\r\n');
  const mapping = suggestMapping(csvHeaders(edited), small);
  let changes = 0;
  const plan = await timeRuns(3, () => {
    changes = planCsvImport(edited, small, mapping, { now: T + 60 }).changes.length;
  });
  report(`import plan 2000 x 50 (${changes} changes), median`, percentile(plan, 50), 1000);
  const planWithEngine = await timeRuns(3, () =>
    planCsvImport(edited, small, mapping, { now: T + 60, grades: gbSmall }),
  );
  report('  with a prebuilt engine (the grades option)', percentile(planWithEngine, 50));

  // Export: 2,000 x 300 with totals.
  const big = generateCourse({ students: 2000, items: 300, seed: 12 });
  const gbBig = new Gradebook(big);
  let exp: GradeExport | undefined;
  const table = await timeRuns(3, () => {
    exp = exportGrades(big, gbBig, { exportedAt: T });
  });
  const cells = exp!.rows.length * exp!.columns.length;
  report(
    `export table 2000 x ${exp!.columns.length - 3} columns (${(cells / 1e6).toFixed(2)} M cells)`,
    percentile(table, 50),
  );
  // The export runs below skip the warm-up run: the table runs above warmed the shared code.
  let csvBytes = 0;
  const csv = await timeRuns(
    3,
    () => {
      csvBytes = exportToCsv(exportGrades(big, gbBig, { exportedAt: T })).length;
    },
    0,
  );
  report(`CSV export 2000 x 300 (${(csvBytes / 1e6).toFixed(1)} MB), median`, percentile(csv, 50), 1000);
  let xlsxBytes = 0;
  const xlsx = await timeRuns(
    3,
    () => {
      xlsxBytes = exportToXlsx(exportGrades(big, gbBig, { exportedAt: T })).length;
    },
    0,
  );
  report(`XLSX export 2000 x 300 (${(xlsxBytes / 1e6).toFixed(1)} MB), median`, percentile(xlsx, 50), 3000);
  let odsBytes = 0;
  const ods = await timeRuns(
    3,
    () => {
      odsBytes = exportToOds(exportGrades(big, gbBig, { exportedAt: T })).length;
    },
    0,
  );
  report(`ODS export 2000 x 300 (${(odsBytes / 1e6).toFixed(1)} MB), median`, percentile(ods, 50), 3000);
  const cpu = (label: string, goal: number, fn: () => unknown): void => {
    const runs = [cpuMs(fn), cpuMs(fn), cpuMs(fn)].sort((x, y) => x - y);
    report(`${label}, CPU time median`, percentile(runs, 50), goal);
  };
  cpu('import plan 2000 x 50', 1000, () => planCsvImport(edited, small, mapping, { now: T + 60 }));
  cpu('CSV export 2000 x 300', 1000, () => exportToCsv(exportGrades(big, gbBig, { exportedAt: T })));
  cpu('XLSX export 2000 x 300', 3000, () => exportToXlsx(exportGrades(big, gbBig, { exportedAt: T })));
  cpu('ODS export 2000 x 300', 3000, () => exportToOds(exportGrades(big, gbBig, { exportedAt: T })));
  console.log(`heap after runs: ${heapMB().toFixed(0)} MB`);
}
