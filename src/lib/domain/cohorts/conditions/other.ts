// Conditions on interests and quiz grades: user_profile_interests, quiz_result (COH-C13, COH-C14).
// Follows tool_dynamic_cohorts condition/user_profile_interests.php and quiz_result.php. Pure.

import { foldText } from '../text.ts';
import { broken, type ConditionType } from './types.ts';

export interface InterestsConfig {
  operator: 'contains' | 'not_contains';
  tags: string[];
}

export const userProfileInterests: ConditionType<InterestsConfig> = {
  type: 'user_profile_interests',
  label: 'User interests',
  events: ['user_created', 'user_updated'],
  parse(raw, r, at) {
    r.keys(raw, at, ['operator', 'tags']);
    return {
      operator: r.oneOf(raw, 'operator', at, ['contains', 'not_contains'] as const),
      tags: r.ids(raw, 'tags', at),
    };
  },
  // A tag nobody uses any more does not break the condition; only an empty list does.
  broken: (c) => (c.tags.length === 0 ? broken('tags', 'at least one tag is required') : null),
  compile(c, ctx) {
    const want = new Set(c.tags.map(foldText));
    const users = ctx.index.users;
    // Tag names compare case-insensitively, as Moodle tag names do.
    const hasAny = (p: number): boolean => {
      for (const t of users[p]!.interests) if (want.has(foldText(t))) return true;
      return false;
    };
    return c.operator === 'contains' ? hasAny : (p) => !hasAny(p);
  },
  describe(c) {
    return `Users whose interests ${c.operator === 'contains' ? 'include any of' : 'include none of'} ${c.tags.map((t) => `[${t}]`).join(' ')}`;
  },
  toJson(c) {
    return { operator: c.operator, tags: c.tags };
  },
};

export interface QuizResultConfig {
  quizId: string;
  minGrade: number;
  maxGrade: number;
}

export const quizResult: ConditionType<QuizResultConfig> = {
  type: 'quiz_result',
  label: 'Quiz result',
  events: ['quiz_graded'],
  parse(raw, r, at) {
    r.keys(raw, at, ['quizId', 'minGrade', 'maxGrade']);
    const minGrade = r.optNum(raw, 'minGrade', at);
    const maxGrade = r.optNum(raw, 'maxGrade', at);
    if (minGrade === null) r.fail(`${at}.minGrade`, 'is required (a number)');
    if (maxGrade === null) r.fail(`${at}.maxGrade`, 'is required (a number)');
    return { quizId: r.str(raw, 'quizId', at), minGrade: minGrade ?? 0, maxGrade: maxGrade ?? 0 };
  },
  broken(c, ctx) {
    const quiz = ctx.index.quizzes.get(c.quizId);
    if (!quiz) return broken('quizId', `quiz "${c.quizId}" does not exist`);
    if (c.minGrade < 0) return broken('minGrade', `must not be negative (${c.minGrade})`);
    if (c.maxGrade < c.minGrade)
      return broken('maxGrade', `${c.maxGrade} is below the minimum ${c.minGrade}`);
    if (c.maxGrade > quiz.grade)
      return broken('maxGrade', `${c.maxGrade} is above the quiz's maximum grade ${quiz.grade}`);
    return null;
  },
  compile(c, ctx) {
    const grades = ctx.index.gradesFor(c.quizId);
    const { minGrade, maxGrade } = c;
    // Inclusive range; users without a grade never match.
    return (p) => {
      const g = grades.get(p);
      return g !== undefined && g >= minGrade && g <= maxGrade;
    };
  },
  describe(c, index) {
    const q = index?.quizzes.get(c.quizId);
    return `Users with a grade from ${c.minGrade} to ${c.maxGrade} in quiz ${c.quizId}${q ? ` (out of ${q.grade})` : ' (missing quiz)'}`;
  },
  toJson(c) {
    return { quizId: c.quizId, minGrade: c.minGrade, maxGrade: c.maxGrade };
  },
};
