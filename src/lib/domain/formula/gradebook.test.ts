// Tests of gradebook calculations (FRM-20..25): [[idnumber]] references, Moodle's null handling,
// validation on save and the dependency order the regrade uses.
import { describe, expect, it } from 'vitest';
import {
  compileGradebookFormula,
  FormulaError,
  orderByDependencies,
  planDependencies,
  rewriteReferences,
  validateGradebookFormula,
} from './index.ts';

function errorOf(fn: () => unknown): FormulaError {
  try {
    fn();
  } catch (e) {
    if (e instanceof FormulaError) return e;
    throw e;
  }
  throw new Error('expected a FormulaError');
}

describe('[FRM-20] compileGradebookFormula', () => {
  it('[FRM-20] references are listed in first-appearance order, unique, and bound by idnumber', () => {
    const f = compileGradebookFormula('=[[quiz1]]*2 + sum([[a]],[[b]]) - [[quiz1]]');
    expect(f.references).toEqual(['quiz1', 'a', 'b']);
    expect(f.referenceAt).toEqual([1, 19, 25]);
    expect(f.variables).toEqual([]);
    expect(f.evaluate({ quiz1: 10, a: 1, b: 2 })).toBe(20 + 3 - 10);
  });

  it('[FRM-20] idnumbers are matched exactly: case, spaces and punctuation kept', () => {
    const f = compileGradebookFormula('=[[Quiz 1]] + [[quiz 1]] + [[a-b.c(1)]]');
    expect(f.references).toEqual(['Quiz 1', 'quiz 1', 'a-b.c(1)']);
    expect(f.evaluate({ 'Quiz 1': 1, 'quiz 1': 10, 'a-b.c(1)': 100 })).toBe(111);
  });

  it('[FRM-20] the leading = is required (after whitespace)', () => {
    expect(compileGradebookFormula('  =[[a]]').references).toEqual(['a']);
    const e = errorOf(() => compileGradebookFormula('[[a]]*2'));
    expect(e.kind).toBe('syntax');
    expect(e.message).toContain("must start with '='");
  });

  it('[FRM-20] plain variable names are rejected at compile time', () => {
    const e = errorOf(() => compileGradebookFormula('=[[a]] + bonus'));
    expect(e.kind).toBe('unknown_variable');
    expect(e.position).toBe(9);
    expect(e.detail.name).toBe('bonus');
  });

  it('[FRM-20] empty and unclosed references are syntax errors with their column', () => {
    expect(errorOf(() => compileGradebookFormula('=1+[[]]')).position).toBe(3);
    const e = errorOf(() => compileGradebookFormula('=1+[[a'));
    expect(e.message).toContain('unclosed reference');
    expect(e.position).toBe(3);
  });

  it('[FRM-20] syntax errors name their column in the calculation text', () => {
    const e = errorOf(() => compileGradebookFormula('=[[quiz]] * * 2'));
    expect(e.kind).toBe('syntax');
    expect(e.position).toBe(12);
    expect(e.message).toContain('at column 13');
  });

  it('[FRM-20] evaluate() requires a value for every reference', () => {
    const e = errorOf(() => compileGradebookFormula('=[[a]]+[[b]]').evaluate({ a: 1 }));
    expect(e.kind).toBe('reference');
    expect(e.detail.name).toBe('b');
  });
});

describe('[FRM-21] evaluateRefs follows grade_item::use_formula', () => {
  const f = compileGradebookFormula('=[[a]] + [[b]]*2');

  it('[FRM-21] a missing or null grade counts as 0', () => {
    expect(f.evaluateRefs(new Map([['a', 5]]))).toBe(5);
    expect(
      f.evaluateRefs(
        new Map([
          ['a', null],
          ['b', 4],
        ]),
      ),
    ).toBe(8);
  });

  it('[FRM-21] when every input is missing or null the result is null', () => {
    expect(f.evaluateRefs(new Map())).toBeNull();
    expect(
      f.evaluateRefs(
        new Map([
          ['a', null],
          ['b', null],
        ]),
      ),
    ).toBeNull();
  });

  it('[FRM-21] a formula with no references gives null (Moodle: no inputs, all null)', () => {
    expect(compileGradebookFormula('=5').evaluateRefs(new Map())).toBeNull();
  });

  it('[FRM-21] the raw result is returned, not clamped (75+25+50 = 150 whatever the max)', () => {
    const g = compileGradebookFormula('=[[a]]+[[b]]+[[c]]');
    expect(
      g.evaluateRefs(
        new Map([
          ['a', 75],
          ['b', 25],
          ['c', 50],
        ]),
      ),
    ).toBe(150);
  });

  it('[FRM-21] category total example: =[[gi1]]/2 with 75 gives 37.5', () => {
    expect(compileGradebookFormula('=[[gi1]]/2').evaluateRefs(new Map([['gi1', 75]]))).toBe(37.5);
  });

  it('[FRM-21] an evaluation error is thrown for the engine to turn into a null grade', () => {
    const g = compileGradebookFormula('=[[a]]/[[b]]');
    expect(errorOf(() => g.evaluateRefs(new Map([['a', 3]]))).kind).toBe('division_by_zero');
  });

  it('[FRM-21] values from one call do not leak into the next', () => {
    const g = compileGradebookFormula('=[[a]]+[[b]]');
    expect(
      g.evaluateRefs(
        new Map([
          ['a', 1],
          ['b', 2],
        ]),
      ),
    ).toBe(3);
    expect(g.evaluateRefs(new Map([['a', 1]]))).toBe(1);
  });
});

describe('[FRM-22] validateGradebookFormula', () => {
  const known = new Set(['quiz1', 'quiz2', 'total']);

  it('[FRM-22] accepts a formula over known idnumbers and returns it compiled', () => {
    const f = validateGradebookFormula('=average([[quiz1]], [[quiz2]])', known);
    expect(f.evaluate({ quiz1: 4, quiz2: 6 })).toBe(5);
  });

  it('[FRM-22] an unknown idnumber is a reference error naming it at its column', () => {
    const e = errorOf(() => validateGradebookFormula('=[[quiz1]] + [[quiz3]]', known));
    expect(e.kind).toBe('reference');
    expect(e.detail.name).toBe('quiz3');
    expect(e.position).toBe(13);
    expect(e.message).toContain('[[quiz3]]');
  });

  it('[FRM-26] an unknown idnumber suggests a close known one', () => {
    expect(errorOf(() => validateGradebookFormula('=[[qiuz1]]', known)).message).toContain(
      'did you mean [[quiz1]]?',
    );
    expect(errorOf(() => validateGradebookFormula('=[[homework]]', known)).message).not.toContain(
      'did you mean',
    );
  });

  it('[FRM-22] referring to the item itself is a cycle error', () => {
    const e = errorOf(() => validateGradebookFormula('=[[total]]+1', known, { self: 'total' }));
    expect(e.kind).toBe('cycle');
    expect(e.detail.items).toEqual(['total', 'total']);
  });

  it('[FRM-22] with maxima, a division by zero at the maxima is caught on save', () => {
    const grademax = new Map([
      ['quiz1', 10],
      ['quiz2', 10],
    ]);
    expect(
      errorOf(() => validateGradebookFormula('=[[quiz1]]/([[quiz2]]-10)', known, { grademax })).kind,
    ).toBe('division_by_zero');
    expect(() => validateGradebookFormula('=[[quiz1]]/[[quiz2]]', known, { grademax })).not.toThrow();
  });
});

describe('[FRM-23][FRM-24] dependency order', () => {
  const itemByIdnumber = new Map([
    ['q1', 'i1'],
    ['q2', 'i2'],
    ['c1', 'calc1'],
    ['c2', 'calc2'],
  ]);

  it('[FRM-24] each item comes after everything it references', () => {
    const order = orderByDependencies({
      references: new Map([
        ['calc2', ['c1', 'q2']],
        ['calc1', ['q1']],
      ]),
      itemByIdnumber,
    });
    expect(order.indexOf('calc1')).toBeGreaterThan(order.indexOf('i1'));
    expect(order.indexOf('calc2')).toBeGreaterThan(order.indexOf('calc1'));
    expect(order.indexOf('calc2')).toBeGreaterThan(order.indexOf('i2'));
    expect([...order].sort()).toEqual(['calc1', 'calc2', 'i1', 'i2']);
  });

  it('[FRM-24] a cycle is an error naming its items in dependency order', () => {
    const e = errorOf(() =>
      orderByDependencies({
        references: new Map([
          ['calc1', ['c2']],
          ['calc2', ['c1']],
        ]),
        itemByIdnumber,
      }),
    );
    expect(e.kind).toBe('cycle');
    expect(e.detail.items).toEqual(['calc1', 'calc2', 'calc1']);
    expect(e.message).toContain('calc1 -> calc2 -> calc1');
  });

  it('[FRM-24] a self-reference is a cycle of one', () => {
    const e = errorOf(() =>
      orderByDependencies({ references: new Map([['calc1', ['c1']]]), itemByIdnumber }),
    );
    expect(e.detail.items).toEqual(['calc1', 'calc1']);
  });

  it('[FRM-24] an unknown idnumber is a reference error naming item and idnumber', () => {
    const e = errorOf(() =>
      orderByDependencies({ references: new Map([['calc1', ['nope']]]), itemByIdnumber }),
    );
    expect(e.kind).toBe('reference');
    expect(e.detail).toEqual({ name: 'nope', items: ['calc1'] });
  });

  it('[FRM-24] extra edges (a category total on its children) take part, and can close a cycle', () => {
    const dependsOn = new Map([['cat', ['i1', 'calc1']]]);
    const order = orderByDependencies({
      references: new Map([['calc1', ['q2']]]),
      itemByIdnumber,
      dependsOn,
    });
    expect(order.indexOf('cat')).toBeGreaterThan(order.indexOf('calc1'));
    const withCat = new Map([...itemByIdnumber, ['catid', 'cat']]);
    const e = errorOf(() =>
      orderByDependencies({
        references: new Map([['calc1', ['catid']]]),
        itemByIdnumber: withCat,
        dependsOn,
      }),
    );
    expect(e.detail.items).toEqual(['calc1', 'cat', 'calc1']);
  });

  it('[FRM-23] planDependencies keeps going: independent items are ordered, the cycle and its dependents blocked', () => {
    const plan = planDependencies({
      references: new Map([
        ['calc1', ['c2']],
        ['calc2', ['c1']],
        ['calc3', ['q1']],
        ['calc4', ['c1']],
        ['calc5', ['missing']],
      ]),
      itemByIdnumber: new Map([...itemByIdnumber, ['c3', 'calc3'], ['c4', 'calc4']]),
    });
    expect(plan.order).toEqual(['i1', 'calc3']);
    expect([...plan.blocked].sort()).toEqual(['calc1', 'calc2', 'calc4', 'calc5']);
    expect(plan.cycles).toEqual([['calc1', 'calc2', 'calc1']]);
    expect(plan.broken).toEqual([{ item: 'calc5', idnumber: 'missing' }]);
  });

  it('[FRM-23] mirrors gradelib_test test_grade_regrade_final_grades: after the referenced item is deleted, the calculated category and the course total stay blocked', () => {
    // The category "cat" is calculated from [[q1]]; item i1 (q1) has been deleted from the course.
    const plan = planDependencies({
      references: new Map([['cat', ['q1']]]),
      itemByIdnumber: new Map([['q2', 'i2']]),
      dependsOn: new Map([['course', ['cat', 'i2']]]),
    });
    expect(plan.order).toEqual(['i2']);
    expect([...plan.blocked].sort()).toEqual(['cat', 'course']);
    expect(plan.broken).toEqual([{ item: 'cat', idnumber: 'q1' }]);
    expect(plan.cycles).toEqual([]);
  });

  it('[FRM-23] ties keep the input order', () => {
    const plan = planDependencies({
      references: new Map([
        ['b', []],
        ['a', []],
        ['c', []],
      ]),
      itemByIdnumber: new Map(),
    });
    expect(plan.order).toEqual(['b', 'a', 'c']);
  });
});

describe('[FRM-25] rewriteReferences', () => {
  it('[FRM-25] renames only the references asked for and leaves the rest of the text alone', () => {
    const out = rewriteReferences('= [[a]]*2 +  max([[b]], [[a]])', (id) =>
      id === 'a' ? 'quiz 1' : undefined,
    );
    expect(out).toBe('= [[quiz 1]]*2 +  max([[b]], [[quiz 1]])');
    expect(compileGradebookFormula(out).references).toEqual(['quiz 1', 'b']);
  });

  it('[FRM-25] refuses a new idnumber that would break the formula', () => {
    expect(() => rewriteReferences('=[[a]]', () => 'x]]y')).toThrow(FormulaError);
    expect(() => rewriteReferences('=[[a]]', () => '')).toThrow(FormulaError);
  });
});
