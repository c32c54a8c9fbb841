// The course JSON interchange format as TypeScript types, exactly as ../shared/spec/course-json.md
// defines it. This is the contract between the engine, the CRDT store, import/export and the CLI.
// Types only: parsing and validation live in course-json.ts. Never change a field's meaning here.

export type Aggregation =
  | 'mean'
  | 'median'
  | 'lowest'
  | 'highest'
  | 'mode'
  | 'weighted_mean'
  | 'simple_weighted_mean'
  | 'extra_credit_mean'
  | 'natural';

export const AGGREGATIONS: readonly Aggregation[] = [
  'mean',
  'median',
  'lowest',
  'highest',
  'mode',
  'weighted_mean',
  'simple_weighted_mean',
  'extra_credit_mean',
  'natural',
];

/** `true`/`false`, or unix seconds: hidden until / locked from that time. */
export type FlagOrTime = boolean | number;

export interface CourseCategory {
  id: string;
  parent: string | null;
  name: string;
  aggregation: Aggregation;
  /** "Exclude empty grades"; default true. */
  aggregateOnlyGraded?: boolean;
  dropLowest?: number;
  keepHighest?: number;
  aggregateSubcategories?: boolean;
  aggregateOutcomes?: boolean;
  grademin?: number | null;
  grademax?: number | null;
  weight?: number | null;
  weightOverride?: boolean;
  extraCredit?: boolean;
  extraCreditWeight?: number;
  hidden?: FlagOrTime;
  locked?: FlagOrTime;
  calculation?: string | null;
  /** Optional idnumber of the category total (usable in formulas). */
  idnumber?: string;
}

export type GradeType = 'value' | 'scale';

export interface CourseItem {
  id: string;
  idnumber: string;
  category: string;
  name: string;
  gradetype?: GradeType;
  grademin: number;
  grademax: number;
  multfactor?: number;
  plusfactor?: number;
  weight?: number | null;
  weightOverride?: boolean;
  extraCredit?: boolean;
  extraCreditWeight?: number;
  hidden?: FlagOrTime;
  locked?: FlagOrTime;
  calculation?: string | null;
  outcome?: boolean;
  scale?: string[] | null;
}

export interface CourseGrade {
  user: string;
  /** An item id, a category id (overridden category total) or `course`. */
  item: string;
  raw?: number | null;
  final?: number;
  rawgrademin?: number;
  rawgrademax?: number;
  overridden?: number | null;
  excluded?: boolean;
  hidden?: FlagOrTime;
  locked?: FlagOrTime;
  feedback?: string;
}

export type HideTotalsMode = 'none' | 'exclude_hidden' | 'include_hidden';

export interface CourseSettings {
  hideTotalsWithHiddenItems?: HideTotalsMode;
  minmaxtouse?: 'item' | 'grade';
  includeScalesInAggregation?: boolean;
  enableOutcomes?: boolean;
  /** Lower boundary percent (as a string key) -> letter. */
  letters?: Record<string, string>;
  displayType?: string;
}

export interface CourseJson {
  categories: CourseCategory[];
  items: CourseItem[];
  grades: CourseGrade[];
  settings: CourseSettings;
  /** Extra, optional: users known to the course (id -> display name); grades may name others. */
  users?: { id: string; name: string; groups?: string[] }[];
}
