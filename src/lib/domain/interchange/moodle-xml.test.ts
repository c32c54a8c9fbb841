// Tests of the Moodle XML results import (SPEC-import-export.md IMP-13..IMP-15) and the results writer.
// Moodle's grade/import/xml/tests/lib_test.php only covers fetching; its "unexpected XML structure" case is re-encoded.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CourseJson } from './course-types.ts';
import { parseCourseJson } from './course-json.ts';
import { applyImportPlan, type DirectoryUser } from './grade-import.ts';
import { planXmlImport, writeResultsXml } from './moodle-xml.ts';

const dir = fileURLToPath(new URL('../../../../test/fixtures/import/', import.meta.url));
const fixture = (): CourseJson => parseCourseJson(readFileSync(dir + 'course.json', 'utf8'));
const directory = JSON.parse(readFileSync(dir + 'directory.json', 'utf8')) as DirectoryUser[];
const results = (...rs: string[]) =>
  `<?xml version="1.0"?>\n<results>${rs.map((r) => `<result>${r}</result>`).join('')}</results>`;

describe('Moodle XML results import', () => {
  it('[IMP-13] the fixture: item by idnumber, student by user idnumber, score and feedback (entities decoded)', () => {
    const p = planXmlImport(readFileSync(dir + 'results.xml', 'utf8'), fixture(), directory);
    expect(p.problems).toEqual([]);
    expect(p.changes.map((c) => [c.at, c.user, c.item, c.field, c.old, c.new])).toEqual([
      ['result 1, <score>', 'u1', 'q1', 'final', 6, 9],
      ['result 1, <feedback>', 'u1', 'q1', 'feedback', 'Solid', 'Well done & on time'],
      ['result 2, <score>', 'u3', 'essay', 'final', null, 3],
    ]);
    expect(p.records).toBe(2);
  });

  it('[IMP-13] lib_test.php unexpected structure: well-formed XML that is not <results> is refused', () => {
    const rss = '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title></channel></rss>';
    const p = planXmlImport(rss, fixture(), directory);
    expect(p.ok).toBe(false);
    expect(p.problems).toEqual([
      { at: '<results>', message: 'expected a <results> element holding <result> elements' },
    ]);
  });

  it('[IMP-13] malformed XML names the line and column', () => {
    const p = planXmlImport('<results>\n<result><score>1</result>\n</results>', fixture(), directory);
    expect(p.ok).toBe(false);
    expect(p.problems[0]!.at).toMatch(/^line 2, column \d+$/);
    expect(p.problems[0]!.message).toMatch(/not well-formed XML/);
  });

  it('[IMP-13] character references, predefined entities and CDATA are decoded once', () => {
    const p = planXmlImport(
      results(
        '<assignment>QUIZ1</assignment><student>u1</student><feedback>Caf&#233; &#x263A; &apos;q&apos; &amp;lt; <![CDATA[<b>x</b> &amp;]]></feedback>',
      ),
      fixture(),
      undefined,
      { userKey: 'id' },
    );
    expect(p.changes.map((c) => c.new)).toEqual(["Café ☺ 'q' &lt; <b>x</b> &amp;"]);
  });

  it('[IMP-13] a DOCTYPE (entity declarations, "billion laughs") is refused with its line', () => {
    let ents = '<!ENTITY a0 "xxxxxxxxxx">';
    for (let i = 1; i < 10; i++) ents += `<!ENTITY a${i} "${`&a${i - 1};`.repeat(10)}">`;
    const xml = `<?xml version="1.0"?>\n<!DOCTYPE results [${ents}]>\n${results('<assignment>QUIZ1</assignment><student>S001</student><feedback>&a9;</feedback>')}`;
    expect(planXmlImport(xml, fixture(), directory)).toMatchObject({
      ok: false,
      changes: [],
      problems: [{ at: 'line 2', message: 'DOCTYPE declarations are not accepted in grade results' }],
    });
  });

  it('[IMP-14] every problem names the 1-based <result> and element', () => {
    const p = planXmlImport(
      results(
        '<assignment>NOPE</assignment><student>S001</student><score>1</score>',
        '<assignment>QUIZ1</assignment><student>S999</student><score>1</score>',
        '<assignment>QUIZ1</assignment><student>S001</student><score>ten</score>',
        '<assignment>BONUS</assignment><student>S001</student><score>1</score>',
        '<assignment>LAB2</assignment><student>S001</student><score>1</score>',
        '<student>S001</student><score>1</score>',
        '<assignment>ESSAY</assignment><student>S002</student><score>Good</score>',
        '<assignment>QUIZ1</assignment><student>S002</student>',
      ),
      fixture(),
      directory,
    );
    expect(p.problems.map((x) => [x.at, x.result, x.element])).toEqual([
      ['result 1, <assignment>', 1, 'assignment'],
      ['result 2, <student>', 2, 'student'],
      ['result 3, <score>', 3, 'score'],
      ['result 4, <assignment>', 4, 'assignment'],
      ['result 5, <score>', 5, 'score'],
      ['result 6, <assignment>', 6, 'assignment'],
      ['result 7, <score>', 7, 'score'],
      ['result 8, <result>', 8, 'result'],
    ]);
    expect(p.problems[0]!.message).toBe('no grade item with idnumber "NOPE"');
    expect(p.problems[2]!.message).toBe('"ten" is not a number');
    expect(p.problems[3]!.message).toMatch(/calculated item/);
    expect(p.problems[4]!.message).toBe('item "Lab 2" is locked; the import would change it');
    // grade/import/xml/lib.php reads scores with is_numeric: scale items take positions, not labels.
    expect(p.problems[6]!.message).toBe('"Good" is not a number');
  });

  it('[IMP-14] "-" clears, an absent <score> changes only feedback, totals are refused by idnumber', () => {
    const c = fixture();
    c.categories[1]!.idnumber = 'LABS';
    const p = planXmlImport(
      results(
        '<assignment>QUIZ1</assignment><student>S002</student><score>-</score>',
        '<assignment>QUIZ1</assignment><student>S003</student><feedback>Late</feedback>',
        '<assignment>LABS</assignment><student>S003</student><score>50</score>',
      ),
      c,
      directory,
    );
    expect(p.changes.map((x) => [x.user, x.field, x.old, x.new])).toEqual([
      ['u2', 'final', 8.5, null],
      ['u3', 'feedback', null, 'Late'],
    ]);
    expect(p.problems.map((x) => x.message)).toEqual([
      'the total of category "Labs" is computed by the gradebook and cannot be imported (Moodle offers only grade items as targets)',
    ]);
  });

  it('[IMP-15] the same student and item twice is refused; userKey "id" matches course ids without a directory', () => {
    const p = planXmlImport(
      results(
        '<assignment>QUIZ1</assignment><student>u1</student><score>1</score>',
        '<assignment>QUIZ1</assignment><student>u1</student><score>2</score>',
      ),
      fixture(),
      undefined,
      { userKey: 'id' },
    );
    expect(p.problems).toEqual([
      {
        at: 'result 2, <student>',
        result: 2,
        element: 'student',
        message: 'result 1 already grades user "u1" in "Quiz 1"',
      },
    ]);
  });

  it('[IMP-15] round trip: results written by writeResultsXml re-import with no changes; applied plans replan clean', () => {
    const course = fixture();
    const xml = writeResultsXml([
      { assignment: 'QUIZ1', student: 'S001', score: '6.00', feedback: 'Solid' },
      { assignment: 'QUIZ1', student: 'S002', score: '8.50' },
      { assignment: 'ESSAY', student: 'S001', score: '2' },
      { assignment: 'LAB1', student: 'S003', score: null },
    ]);
    const same = planXmlImport(xml, course, directory);
    expect(same).toMatchObject({ ok: true, changes: [], unchanged: 5 });
    const edit = xml
      .replace('<score>8.50</score>', '<score>9.25</score>')
      .replace('Solid', 'A &lt;b&gt; grade');
    const p = planXmlImport(edit, course, directory);
    expect(p.changes.map((c) => c.new)).toEqual(['A <b> grade', 9.25]);
    const next = applyImportPlan(course, p);
    expect(planXmlImport(edit, next, directory)).toMatchObject({ ok: true, changes: [] });
  });
});
