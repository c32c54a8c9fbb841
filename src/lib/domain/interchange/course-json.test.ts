// Course JSON parsing and validation: errors name the JSON path; round trips (SPEC.md JSON-1..3 in gradebook/SPEC.md).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseCourseJson, serialiseCourseJson, validateCourseJson } from './course-json.ts';
import { ValidationError } from '../shared/errors.ts';
import { generateCourse } from '../../../../test/fixtures/courses/generate.ts';

type Row = Record<string, unknown>;
interface Loose {
  categories: Row[];
  items: Row[];
  grades: Row[];
  settings: Row;
  [k: string]: unknown;
}

const valid = (): Loose => ({
  categories: [
    { id: 'root', parent: null, name: 'Course', aggregation: 'natural' },
    { id: 'k', parent: 'root', name: 'Quizzes', aggregation: 'mean', idnumber: 'quiztotal' },
  ],
  items: [
    { id: 'q1', idnumber: 'q1', category: 'k', name: 'Quiz 1', grademin: 0, grademax: 10 },
    {
      id: 'sc',
      idnumber: 'sc',
      category: 'root',
      name: 'Essay',
      gradetype: 'scale',
      scale: ['Poor', 'Good'],
      grademin: 1,
      grademax: 2,
    },
  ],
  grades: [
    { user: 'u1', item: 'q1', raw: 7, feedback: 'ok' },
    { user: 'u1', item: 'course', overridden: 55 },
  ],
  settings: { hideTotalsWithHiddenItems: 'exclude_hidden', letters: { '50': 'P', '0': 'F' } },
  extraField: { kept: true },
});

function problemsOf(doc: unknown): { at: string; message: string }[] {
  try {
    validateCourseJson(doc);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return [...(e as ValidationError).problems];
  }
  throw new Error('expected a ValidationError');
}

describe('course JSON', () => {
  it('[JSON-3] a valid document passes, extra fields kept', () => {
    const doc = validateCourseJson(valid());
    expect((doc as unknown as { extraField: unknown }).extraField).toEqual({ kept: true });
    expect(doc.items).toHaveLength(2);
  });
  it('[JSON-1] wrong types are reported at their JSON path, all at once', () => {
    const doc = valid();
    doc.items[0]!.grademax = 'ten';
    doc.grades[0]!.raw = Infinity;
    doc.categories[1]!.aggregation = 'average';
    const ps = problemsOf(doc);
    expect(ps.map((p) => p.at)).toEqual([
      '$.categories[1].aggregation',
      '$.items[0].grademax',
      '$.grades[0].raw',
    ]);
    expect(ps[0]!.message).toMatch(/must be one of mean, median/);
    expect(ps[1]!.message).toBe('must be a finite number, got "ten"');
  });
  it('[JSON-2] references: unknown category, unknown grade item, duplicate ids and idnumbers', () => {
    const doc = valid();
    doc.items[0]!.category = 'nowhere';
    doc.items[1]!.idnumber = 'quiztotal';
    doc.grades.push({ user: 'u1', item: 'ghost', raw: 1 });
    doc.grades.push({ user: 'u1', item: 'q1', raw: 2 });
    const ps = problemsOf(doc);
    expect(ps).toEqual(
      expect.arrayContaining([
        { at: '$.items[0].category', message: 'unknown category "nowhere"' },
        { at: '$.items[1].idnumber', message: 'duplicate idnumber "quiztotal" (also $.categories[1])' },
        { at: '$.grades[2].item', message: 'unknown item "ghost"' },
        { at: '$.grades[3]', message: 'a second grade for user "u1" and item "q1" (first at $.grades[0])' },
      ]),
    );
  });
  it('[JSON-2] exactly one course category, parents that exist, no cycles', () => {
    const doc = valid();
    doc.categories.push(
      { id: 'x', parent: 'y', name: 'x', aggregation: 'mean' },
      { id: 'y', parent: 'x', name: 'y', aggregation: 'mean' },
    );
    expect(problemsOf(doc).map((p) => p.message)).toContain('categories form a cycle through "y"');
    const two = valid();
    two.categories[1]!.parent = null;
    expect(problemsOf(two)).toContainEqual({
      at: '$.categories',
      message: 'must have exactly one course category (parent null), found 2',
    });
  });
  it('[JSON-2] raw must be null with a stored final; totals take no raw grade; max not below min', () => {
    const doc = valid();
    doc.grades[0]!.final = 6;
    doc.grades.push({ user: 'u2', item: 'k', raw: 5 });
    doc.items[0]!.grademin = 20;
    const ats = problemsOf(doc).map((p) => p.at);
    expect(ats).toEqual(['$.items[0].grademax', '$.grades[0].raw', '$.grades[2].raw']);
  });
  it('[JSON-1] not JSON at all, or not an object', () => {
    expect(() => parseCourseJson('{"categories": [')).toThrow(/^\$: not valid JSON/);
    expect(problemsOf([])).toEqual([{ at: '$', message: 'a course document must be a JSON object' }]);
    expect(problemsOf({}).map((p) => p.at)).toEqual(['$.categories', '$.items', '$.grades', '$.settings']);
  });
  it('[JSON-1] settings: enumerations and letter boundaries', () => {
    const doc = valid();
    doc.settings.minmaxtouse = 'both';
    doc.settings.letters = { '120': 'A+', abc: 'B' };
    expect(problemsOf(doc).map((p) => p.at)).toEqual([
      '$.settings.minmaxtouse',
      '$.settings.letters["120"]',
      '$.settings.letters.abc',
    ]);
  });
  it('[JSON-3] property: serialise then parse gives back an equal document', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 6 }), (seed, students) => {
        const doc = validateCourseJson(
          generateCourse({ students, items: 12, levels: 2, fanout: 2, calculated: 1, seed }),
        );
        expect(parseCourseJson(serialiseCourseJson(doc))).toEqual(doc);
      }),
      { numRuns: 25 },
    );
  });
});
