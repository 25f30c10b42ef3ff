// The rule builder's form model: the parts of a campaign's JSON text that a
// form can edit (name, description, schedule, each rule's conditions and
// formula), read from the text and written back into it. The JSON text stays
// the source of truth: writing back changes only what the form changed and
// keeps every other field, its order and its exact numbers.

// ---------------------------------------------------------------------------
// JSON that keeps numbers as written. The server reads numbers as exact
// decimals (a budget may pass 2^53, a threshold may be written 100.50), so a
// number whose JS value would print differently is kept as its text.

export class JsonNumber {
  constructor(readonly text: string) {}
}

export type Json = null | boolean | number | string | JsonNumber | Json[] | JsonObject;
export type JsonObject = { [key: string]: Json };

export const isObject = (v: Json | undefined): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber);

// readJson parses text already known to be valid JSON (JSON.parse said so),
// keeping each number's text where JS would change it.
function readJson(text: string): Json {
  let i = 0;
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const value = (): Json => {
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: JsonObject = {};
      space();
      if (text[i] === '}') return i++, obj;
      for (;;) {
        space();
        const key = str();
        space();
        i++; // :
        // defineProperty: a key "__proto__" is a field like any other.
        Object.defineProperty(obj, key, { value: value(), enumerable: true, writable: true, configurable: true });
        space();
        if (text[i++] === '}') return obj;
      }
    }
    if (c === '[') {
      i++;
      const list: Json[] = [];
      space();
      if (text[i] === ']') return i++, list;
      for (;;) {
        list.push(value());
        space();
        if (text[i++] === ']') return list;
      }
    }
    if (c === '"') return str();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) return (i += word.length), v;
    }
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400))!;
    i += m[0].length;
    const n = Number(m[0]);
    return String(n) === m[0] ? n : new JsonNumber(m[0]);
  };
  const str = (): string => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  return value();
}

// printJson writes v as JSON.stringify(v, null, 2) would (compact without an
// indent), with kept numbers as written.
export function printJson(v: Json, indent = '  ', at = ''): string {
  if (v instanceof JsonNumber) return v.text;
  if (typeof v !== 'object' || v === null) return JSON.stringify(v);
  const inner = at + indent;
  const [open, close, nl, colon] = indent ? ['\n' + inner, '\n' + at, ',\n' + inner, ': '] : ['', '', ',', ':'];
  if (Array.isArray(v)) return v.length ? `[${open}${v.map((x) => printJson(x, indent, inner)).join(nl)}${close}]` : '[]';
  const keys = Object.keys(v);
  return keys.length ? `{${open}${keys.map((k) => JSON.stringify(k) + colon + printJson(v[k], indent, inner)).join(nl)}${close}}` : '{}';
}

// setKey sets obj[key] in place when it is there; a new key goes where
// `order` puts it among the keys there, so the text reads as a person would
// write it. Returns a new object.
function setKey(obj: JsonObject, key: string, value: Json, order: readonly string[]): JsonObject {
  if (Object.hasOwn(obj, key) && obj[key] === value) return obj; // unchanged: the same object, so "nothing changed" is cheap to tell
  if (Object.hasOwn(obj, key)) return withEntries(Object.entries(obj).map(([k, v]) => [k, k === key ? value : v]));
  const rank = order.indexOf(key);
  const entries = Object.entries(obj);
  const at = rank < 0 ? -1 : entries.findIndex(([k]) => order.indexOf(k) > rank);
  entries.splice(at < 0 ? entries.length : at, 0, [key, value]);
  return withEntries(entries);
}

function withoutKey(obj: JsonObject, key: string): JsonObject {
  if (!Object.hasOwn(obj, key)) return obj;
  return withEntries(Object.entries(obj).filter(([k]) => k !== key));
}

function withEntries(entries: [string, Json][]): JsonObject {
  const obj: JsonObject = {};
  for (const [k, v] of entries) Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
  return obj;
}

// ---------------------------------------------------------------------------
// The campaign format (domains/campaign: Draft, Rule, Condition).

const draftOrder = ['client', 'campaign_name', 'description', 'status', 'starts_at', 'ends_at', 'priority', 'rounding', 'max_points_per_purchase', 'budget', 'rules'];
const ruleOrder = ['variable', 'condition', 'action'];
const conditionOrder = ['variable', 'rule', 'value', 'all', 'any', 'not'];

export type ValueKind = 'number' | 'range' | 'text' | 'texts' | 'presence';

// operators are the comparisons of domains/campaign/condition.go, in words.
export const operators = [
  { value: 'numeric_greater_than', label: 'is more than', kind: 'number' },
  { value: 'numeric_greater_than_equals', label: 'is at least', kind: 'number' },
  { value: 'numeric_less_than', label: 'is less than', kind: 'number' },
  { value: 'numeric_less_than_equals', label: 'is at most', kind: 'number' },
  { value: 'numeric_equals', label: 'equals (number)', kind: 'number' },
  { value: 'numeric_between', label: 'is between (inclusive)', kind: 'range' },
  { value: 'string_equals', label: 'is (text)', kind: 'text' },
  { value: 'string_in', label: 'is one of (text)', kind: 'texts' },
  { value: 'is_present', label: 'is present or absent', kind: 'presence' },
] as const satisfies readonly { value: string; label: string; kind: ValueKind }[];

export type Operator = (typeof operators)[number]['value'];

export const kindOf = (op: Operator): ValueKind => operators.find((o) => o.value === op)!.kind;

// Limits the server checks (limits/limits.go), checked here too so that the
// form says so beside the field.
export const maxRules = 50;
export const maxDescription = 200;
const namePattern = /^[A-Za-z0-9._@:-]{1,128}$/;
const numberPattern = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

// Comparison is one condition the form shows: a field, an operator and the
// value, in the inputs of each kind of value (switching the operator keeps
// what was typed where it still fits).
export type Comparison = {
  path: string;
  operator: Operator;
  value: string; // number or text
  low: string;
  high: string;
  list: string[];
  present: boolean;
  // Where it came from: written back unchanged while the form leaves it be.
  source?: JsonObject;
  ownPath: boolean; // its own "variable" rather than the rule's
};

export type RuleForm = {
  // editable false: the condition nests further than the form shows (not,
  // groups in groups, an unknown operator); it is kept as it is.
  editable: boolean;
  comparisons: Comparison[];
  combine: 'all' | 'any';
  grouped: boolean; // written as {"all": [...]} even with one comparison
  formula: string;
  source?: JsonObject;
};

export type CampaignForm = {
  name: string;
  description: string;
  startsAt: string; // datetime-local text, UTC; '' for none
  endsAt: string;
  // A date the JSON has but the form cannot read (kept until replaced).
  startsAtUnread?: string;
  endsAtUnread?: string;
  rules: RuleForm[];
  rulesAsText: boolean; // seed 003's format: the rules array as a JSON string
  doc: JsonObject;
};

export type Parsed = { ok: true; form: CampaignForm } | { ok: false; reason: string };

// toForm reads the campaign text into the form, or says why it cannot.
export function toForm(text: string): Parsed {
  try {
    JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `The JSON is not valid (${e instanceof Error ? e.message : String(e)}).` };
  }
  const doc = readJson(text);
  if (!isObject(doc)) return { ok: false, reason: 'The campaign must be a JSON object.' };
  for (const f of ['campaign_name', 'description', 'starts_at', 'ends_at'] as const) {
    if (doc[f] !== undefined && typeof doc[f] !== 'string') return { ok: false, reason: `${f} must be text.` };
  }
  let rulesJson: Json = doc.rules ?? [];
  const rulesAsText = typeof rulesJson === 'string';
  if (typeof rulesJson === 'string') {
    try {
      JSON.parse(rulesJson);
      rulesJson = readJson(rulesJson);
    } catch {
      return { ok: false, reason: 'rules is text that does not hold a JSON list of rules.' };
    }
  }
  if (!Array.isArray(rulesJson)) return { ok: false, reason: 'rules must be a list of rules.' };
  const rules: RuleForm[] = [];
  for (const [i, r] of rulesJson.entries()) {
    const rule = readRule(r);
    if (typeof rule === 'string') return { ok: false, reason: `Rule ${i + 1}: ${rule}` };
    rules.push(rule);
  }
  const starts = fromTime(doc.starts_at);
  const ends = fromTime(doc.ends_at);
  return {
    ok: true,
    form: {
      name: str(doc.campaign_name),
      description: str(doc.description),
      startsAt: starts.local,
      endsAt: ends.local,
      startsAtUnread: starts.unread,
      endsAtUnread: ends.unread,
      rules,
      rulesAsText,
      doc,
    },
  };
}

const str = (v: Json | undefined): string => (typeof v === 'string' ? v : '');

function readRule(r: Json): RuleForm | string {
  if (!isObject(r)) return 'a rule must be a JSON object.';
  const action = r.action ?? {};
  if (!isObject(action)) return 'its action must be a JSON object.';
  if (action.formula !== undefined && typeof action.formula !== 'string') return 'its formula must be text.';
  const base = { formula: str(action.formula), source: r, combine: 'all' as const, grouped: false };
  const fixed: RuleForm = { ...base, editable: false, comparisons: [] };
  if (r.variable !== undefined && typeof r.variable !== 'string') return fixed;
  const cond = r.condition;
  if (cond === undefined) return { ...base, editable: true, comparisons: [] };
  if (!isObject(cond)) return fixed;
  const inherited = str(r.variable);
  const single = readComparison(cond, inherited);
  if (single) return { ...base, editable: true, comparisons: [single] };
  const combine = Array.isArray(cond.all) ? 'all' : Array.isArray(cond.any) ? 'any' : undefined;
  const list = combine && cond[combine];
  const groupKeys = Object.keys(cond).filter((k) => k !== 'variable');
  if (!combine || !Array.isArray(list) || list.length === 0 || groupKeys.length !== 1) return fixed;
  if (cond.variable !== undefined && typeof cond.variable !== 'string') return fixed;
  const groupPath = typeof cond.variable === 'string' && cond.variable ? cond.variable : inherited;
  const comparisons = list.map((c) => (isObject(c) ? readComparison(c, groupPath) : undefined));
  if (comparisons.some((c) => !c)) return fixed;
  return { ...base, editable: true, comparisons: comparisons as Comparison[], combine, grouped: true };
}

// readComparison reads a {"rule", "value"} condition, or gives undefined for
// anything else (a group, a not, a value the form has no input for).
function readComparison(c: JsonObject, inherited: string): Comparison | undefined {
  const op = operators.find((o) => o.value === c.rule)?.value;
  if (!op || ['all', 'any', 'not'].some((k) => k in c)) return undefined;
  if (c.variable !== undefined && typeof c.variable !== 'string') return undefined;
  // A variable of its own, even "" (the server then reads the inherited
  // one): the form shows what the JSON says, so typing a path afresh works.
  const own = typeof c.variable === 'string';
  const out: Comparison = { path: own ? (c.variable as string) : inherited, operator: op, value: '', low: '', high: '', list: [], present: true, source: c, ownPath: own };
  const v = c.value;
  const scalar = (x: Json | undefined) => (typeof x === 'string' ? x : typeof x === 'number' ? String(x) : x instanceof JsonNumber ? x.text : undefined);
  switch (kindOf(op)) {
    case 'number':
    case 'text':
      if (v === undefined) return out;
      out.value = scalar(v) ?? '';
      return scalar(v) === undefined ? undefined : out;
    case 'range':
      if (v === undefined) return out;
      if (!Array.isArray(v) || v.length !== 2 || v.some((x) => scalar(x) === undefined)) return undefined;
      [out.low, out.high] = v.map((x) => scalar(x)!);
      return out;
    case 'texts':
      if (v === undefined) return out;
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return undefined;
      out.list = v as string[];
      return out;
    case 'presence':
      if (v !== undefined && typeof v !== 'boolean') return undefined;
      out.present = v !== false;
      return out;
  }
}

// Times: the form edits them in UTC, as the server keeps them.
function fromTime(v: Json | undefined): { local: string; unread?: string } {
  if (typeof v !== 'string' || v === '') return { local: '' };
  const t = Date.parse(v);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(v) || Number.isNaN(t)) return { local: '', unread: v };
  const iso = new Date(t).toISOString(); // 2026-12-01T10:00:00.000Z
  return { local: iso.endsWith(':00.000Z') ? iso.slice(0, 16) : iso.slice(0, 19) };
}

// toTime turns a datetime-local text (UTC) into RFC 3339.
export function toTime(local: string): string {
  return /T\d\d:\d\d$/.test(local) ? `${local}:00Z` : `${local.replace(/\.\d+$/, '')}Z`;
}

// ---------------------------------------------------------------------------
// Writing the form back.

// toJson writes the form into its campaign's JSON, pretty printed: what the
// form did not change is kept as it was.
export function toJson(form: CampaignForm): string {
  const before = toForm(printJson(form.doc));
  const was = before.ok ? before.form : undefined;
  let doc = form.doc;
  if (form.name !== was?.name) doc = setKey(doc, 'campaign_name', form.name, draftOrder);
  if (form.description !== was?.description) {
    doc = form.description === '' ? withoutKey(doc, 'description') : setKey(doc, 'description', form.description, draftOrder);
  }
  for (const [key, local, old] of [['starts_at', form.startsAt, was?.startsAt], ['ends_at', form.endsAt, was?.endsAt]] as const) {
    if (local !== old) doc = local === '' ? withoutKey(doc, key) : setKey(doc, key, toTime(local), draftOrder);
  }
  const rules: Json[] = form.rules.map(writeRule);
  // Rules the form left as they were stay as written (seed 003's text too).
  const same = was && rules.length === was.rules.length && rules.every((r, i) => r === form.rules[i].source);
  if (!same) doc = setKey(doc, 'rules', form.rulesAsText ? printJson(rules, '') : rules, draftOrder);
  return printJson(doc);
}

function writeRule(rule: RuleForm): JsonObject {
  let r: JsonObject = rule.source ?? {};
  const action = isObject(r.action) ? r.action : { command: 'issue' };
  // A rule read without a formula keeps having none until one is typed.
  if (!rule.source || str(action.formula) !== rule.formula) {
    r = setKey(r, 'action', setKey(action, 'formula', rule.formula, ['command', 'formula']), ruleOrder);
  }
  if (!rule.editable) return r;
  const cond = isObject(r.condition) ? r.condition : undefined;
  const ruleVar = str(r.variable);
  if (rule.comparisons.length === 0) return withoutKey(withoutKey(r, 'condition'), 'variable');
  if (rule.comparisons.length === 1 && !rule.grouped) {
    const c = rule.comparisons[0];
    if (c.ownPath) return setKey(r, 'condition', writeComparison(c, ruleVar), ruleOrder);
    // The rule's own variable names the path, as seed 003 wrote it.
    return setKey(setKey(r, 'variable', c.path, ruleOrder), 'condition', writeComparison(c, c.path), ruleOrder);
  }
  const wasGroup = cond && (Array.isArray(cond.all) || Array.isArray(cond.any));
  const groupVar = wasGroup && typeof cond.variable === 'string' && cond.variable ? cond.variable : ruleVar;
  const list = rule.comparisons.map((c) => writeComparison(c, groupVar));
  const was = wasGroup ? cond[rule.combine] : undefined;
  if (Array.isArray(was) && was.length === list.length && list.every((c, i) => c === was[i])) return r; // the group as it was
  let group: JsonObject = wasGroup ? withoutKey(withoutKey(cond, 'all'), 'any') : {};
  group = setKey(group, rule.combine, list, conditionOrder);
  return setKey(r, 'condition', group, ruleOrder);
}

// writeComparison writes c; inherited is the path it gets without a
// variable of its own.
function writeComparison(c: Comparison, inherited: string): JsonObject {
  const was = c.source && readComparison(c.source, inherited);
  if (was && sameComparison(was, c)) return c.source!;
  let out: JsonObject = c.source ?? {};
  out = c.ownPath || c.path !== inherited ? setKey(out, 'variable', c.path, conditionOrder) : withoutKey(out, 'variable');
  out = setKey(out, 'rule', c.operator, conditionOrder);
  const num = (s: string): Json => (numberPattern.test(s.trim()) ? jsonNumber(s.trim()) : s);
  switch (kindOf(c.operator)) {
    case 'number':
      return setKey(out, 'value', num(c.value), conditionOrder);
    case 'text':
      return setKey(out, 'value', c.value, conditionOrder);
    case 'range':
      return setKey(out, 'value', [num(c.low), num(c.high)], conditionOrder);
    case 'texts':
      return setKey(out, 'value', c.list, conditionOrder);
    case 'presence':
      return c.present ? withoutKey(out, 'value') : setKey(out, 'value', false, conditionOrder);
  }
}

const jsonNumber = (s: string): Json => (String(Number(s)) === s ? Number(s) : new JsonNumber(s));

function sameComparison(a: Comparison, b: Comparison): boolean {
  if (a.path !== b.path || a.operator !== b.operator) return false;
  switch (kindOf(a.operator)) {
    case 'number':
    case 'text':
      return a.value === b.value;
    case 'range':
      return a.low === b.low && a.high === b.high;
    case 'texts':
      return a.list.length === b.list.length && a.list.every((x, i) => x === b.list[i]);
    case 'presence':
      return a.present === b.present;
  }
}

// ---------------------------------------------------------------------------
// Edits the form makes.

export function newComparison(path = '$.amount'): Comparison {
  return { path, operator: 'numeric_greater_than', value: '', low: '', high: '', list: [], present: true, ownPath: false };
}

export function newRule(): RuleForm {
  return { editable: true, comparisons: [newComparison()], combine: 'all', grouped: false, formula: '$.amount / 10' };
}

// withOperator switches a comparison's operator, carrying what was typed to
// the new kind of value.
export function withOperator(c: Comparison, operator: Operator): Comparison {
  const from = kindOf(c.operator);
  const to = kindOf(operator);
  const first = from === 'range' ? c.low : from === 'texts' ? (c.list[0] ?? '') : c.value;
  const next = { ...c, operator };
  if (to === 'range' && !c.low) next.low = first;
  if (to === 'texts' && c.list.length === 0 && first) next.list = [first];
  if ((to === 'number' || to === 'text') && !c.value) next.value = first;
  return next;
}

// ---------------------------------------------------------------------------
// Checks beside the fields (the server checks them all again).

export function nameProblem(name: string): string | undefined {
  return namePattern.test(name) ? undefined : 'Use 1 to 128 letters, digits or . _ @ : -';
}

export function descriptionProblem(text: string): string | undefined {
  return [...text].length > maxDescription ? `At most ${maxDescription} characters (now ${[...text].length})` : undefined;
}

export function pathProblem(path: string): string | undefined {
  if (path === '') return 'Choose a field, such as $.amount';
  return path.startsWith('$') ? undefined : 'A field starts with $, such as $.amount';
}

export function numberProblem(text: string): string | undefined {
  return numberPattern.test(text.trim()) ? undefined : 'Enter a number, such as 50 or 12.5';
}

export function formulaProblem(formula: string): string | undefined {
  return formula.trim() === '' ? 'Enter a formula, such as $.amount / 10' : undefined;
}

export function scheduleProblem(form: CampaignForm): string | undefined {
  if (!form.startsAt || !form.endsAt) return undefined;
  return Date.parse(toTime(form.endsAt)) > Date.parse(toTime(form.startsAt)) ? undefined : 'The end must be after the start';
}
