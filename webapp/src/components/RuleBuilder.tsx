// A form over a campaign's JSON text: name, description, schedule and each
// rule's conditions and points formula. The JSON text stays the source of
// truth: the form reads it on every change and writes back only what it
// changed (src/lib/ruleModel.ts), so it sits beside the JSON editor, and
// says so when the text is something it cannot show.
import {
  Alert,
  Autocomplete,
  Button,
  Code,
  Fieldset,
  Group,
  NativeSelect,
  Stack,
  TagsInput,
  Text,
  TextInput,
  type ComboboxItem,
  type OptionsFilter,
} from '@mantine/core';
import { useMemo } from 'react';
import { describeField, eventFieldPaths } from '../lib/eventFields';
import { FormulaInput } from './FormulaInput';
import {
  descriptionProblem,
  formulaProblem,
  kindOf,
  maxDescription,
  maxRules,
  nameProblem,
  newComparison,
  newRule,
  numberProblem,
  operators,
  pathProblem,
  printJson,
  scheduleProblem,
  toForm,
  toJson,
  withOperator,
  type CampaignForm,
  type Comparison,
  type Operator,
  type RuleForm,
} from '../lib/ruleModel';

// A problem the API reported, at its field of the campaign (rules[0].action.formula).
export type FieldProblem = { field: string; message: string };

type Props = {
  value: string;
  onChange: (json: string) => void;
  fields?: string[]; // suggested JSONPaths; the store's purchase event by default
  problems?: FieldProblem[]; // shown beside the input of their field
  lockName?: boolean; // a saved campaign keeps its name
};

export function RuleBuilder({ value, onChange, fields = eventFieldPaths, problems = [], lockName = false }: Props) {
  const parsed = useMemo(() => toForm(value), [value]);
  if (!parsed.ok) {
    return (
      <Alert color="yellow" title="The form cannot show this campaign">
        {parsed.reason} Edit it in the JSON; the form comes back as soon as the JSON is a campaign it can show.
      </Alert>
    );
  }
  const form = parsed.form;
  const update = (next: CampaignForm) => onChange(toJson(next));
  const at = (field: string) => problems.filter((p) => p.field === field).map((p) => p.message).join('; ') || undefined;
  const setRule = (i: number, rule: RuleForm) => update({ ...form, rules: form.rules.map((r, j) => (j === i ? rule : r)) });

  return (
    <Stack gap="md">
      <Fieldset legend="Campaign">
        <Stack gap="sm">
          <TextInput
            label="Name"
            description={lockName ? 'A saved campaign keeps its name' : 'Letters, digits and . _ @ : - (up to 128)'}
            value={form.name}
            readOnly={lockName}
            error={(!lockName && nameProblem(form.name)) || at('campaign_name')}
            onChange={(e) => update({ ...form, name: e.currentTarget.value })}
          />
          <TextInput
            label="Description"
            description={`Customers read it on their orders (up to ${maxDescription} characters)`}
            value={form.description}
            error={descriptionProblem(form.description) || at('description')}
            onChange={(e) => update({ ...form, description: e.currentTarget.value })}
          />
        </Stack>
      </Fieldset>
      <Fieldset legend="Schedule (UTC)">
        <Group grow align="flex-start" wrap="wrap">
          <TextInput
            type="datetime-local"
            label="Starts"
            description="Empty: it has already started"
            miw={200}
            value={form.startsAt}
            error={unread(form.startsAtUnread) || at('starts_at')}
            onChange={(e) => update({ ...form, startsAt: e.currentTarget.value })}
          />
          <TextInput
            type="datetime-local"
            label="Ends"
            description="Empty: it never ends; it stops at this time"
            miw={200}
            value={form.endsAt}
            error={unread(form.endsAtUnread) || scheduleProblem(form) || at('ends_at')}
            onChange={(e) => update({ ...form, endsAt: e.currentTarget.value })}
          />
        </Group>
      </Fieldset>
      {form.rules.length === 0 && <Text c="dimmed">No rules yet: a campaign needs at least one.</Text>}
      {form.rules.map((rule, i) => (
        <RuleFields
          key={i}
          index={i}
          rule={rule}
          fields={fields}
          at={at}
          onChange={(r) => setRule(i, r)}
          onRemove={form.rules.length > 1 ? () => update({ ...form, rules: form.rules.filter((_, j) => j !== i) }) : undefined}
        />
      ))}
      <Group>
        <Button variant="light" disabled={form.rules.length >= maxRules} onClick={() => update({ ...form, rules: [...form.rules, newRule()] })}>
          Add rule
        </Button>
        {form.rules.length >= maxRules && <Text size="sm">A campaign may have at most {maxRules} rules.</Text>}
      </Group>
    </Stack>
  );
}

const unread = (text?: string) => (text ? `“${text}” is not a date the form can read: pick one, or fix it in the JSON` : undefined);

type RuleProps = {
  index: number;
  rule: RuleForm;
  fields: string[];
  at: (field: string) => string | undefined;
  onChange: (rule: RuleForm) => void;
  onRemove?: () => void; // none: the last rule stays
};

function RuleFields({ index, rule, fields, at, onChange, onRemove }: RuleProps) {
  const n = index + 1;
  const field = `rules[${index}]`;
  // A group of one stays a group while it is edited; removing down to one
  // condition unwraps it, as a person would write it.
  const setComparisons = (comparisons: Comparison[], grouped = rule.grouped || comparisons.length > 1) => onChange({ ...rule, comparisons, grouped });
  const cond = rule.source?.condition;
  return (
    <Fieldset legend={`Rule ${n}`}>
      <Stack gap="sm">
        {!rule.editable ? (
          <Stack gap={4}>
            <Text size="sm">This rule’s condition nests further than the form shows (not, or groups within groups): edit it in the JSON.</Text>
            {cond !== undefined && (
              <Code block>{printJson(cond)}</Code>
            )}
          </Stack>
        ) : (
          <>
            {rule.comparisons.length === 0 && <Text size="sm">Every purchase earns points by this rule.</Text>}
            {rule.comparisons.length > 1 && (
              <NativeSelect
                label="Earns points when the purchase matches"
                value={rule.combine}
                data={[
                  { value: 'all', label: 'all of the conditions' },
                  { value: 'any', label: 'any of the conditions' },
                ]}
                onChange={(e) => onChange({ ...rule, combine: e.currentTarget.value === 'any' ? 'any' : 'all' })}
              />
            )}
            {at(`${field}.condition`) && <Text size="sm" c="red">{at(`${field}.condition`)}</Text>}
            {rule.comparisons.map((c, j) => {
              const base = rule.grouped ? `${field}.condition.${rule.combine}[${j}]` : `${field}.condition`;
              return (
                <ComparisonFields
                  key={j}
                  name={`Condition ${j + 1} of rule ${n}`}
                  comparison={c}
                  fields={fields}
                  problems={{
                    path: at(c.ownPath ? `${base}.variable` : `${field}.variable`),
                    operator: at(`${base}.rule`),
                    value: at(`${base}.value`) ?? at(base),
                  }}
                  onChange={(next) => setComparisons(rule.comparisons.map((x, k) => (k === j ? next : x)))}
                  onRemove={() => setComparisons(rule.comparisons.filter((_, k) => k !== j), rule.comparisons.length > 2)}
                />
              );
            })}
            <Group>
              <Button
                variant="subtle"
                size="compact-sm"
                aria-label={`Add condition to rule ${n}`}
                onClick={() => setComparisons([...rule.comparisons, newComparison(rule.comparisons.at(-1)?.path)])}
              >
                Add condition
              </Button>
            </Group>
          </>
        )}
        <FormulaInput
          value={rule.formula}
          error={formulaProblem(rule.formula) || at(`${field}.action.formula`) || at(`${field}.action.command`) || at(`${field}.action`)}
          onChange={(formula) => onChange({ ...rule, formula })}
        />
        {onRemove && (
          <Group justify="flex-end">
            <Button variant="subtle" color="red" size="compact-sm" aria-label={`Remove rule ${n}`} onClick={onRemove}>
              Remove rule
            </Button>
          </Group>
        )}
      </Stack>
    </Fieldset>
  );
}

// byPathOrDescription finds fields by their path or their description
// ("money" finds $.amount).
const byPathOrDescription: OptionsFilter = ({ options, search }) => {
  const q = search.trim().toLowerCase();
  return (options as ComboboxItem[]).filter((o) => o.value.toLowerCase().includes(q) || (describeField(o.value) ?? '').toLowerCase().includes(q));
};

type ComparisonProps = {
  name: string;
  comparison: Comparison;
  fields: string[];
  problems: { path?: string; operator?: string; value?: string };
  onChange: (c: Comparison) => void;
  onRemove: () => void;
};

function ComparisonFields({ name, comparison: c, fields, problems, onChange, onRemove }: ComparisonProps) {
  const kind = kindOf(c.operator);
  const set = (patch: Partial<Comparison>) => onChange({ ...c, ...patch });
  const number = (v: string) => numberProblem(v) ?? problems.value;
  return (
    <Group role="group" aria-label={name} align="flex-start" gap="sm" wrap="wrap">
      <Autocomplete
        label="Field"
        description={describeField(c.path) ?? 'A JSONPath into the purchase, such as $.amount'}
        miw={220}
        style={{ flex: '2 1 220px' }}
        styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
        data={fields}
        filter={byPathOrDescription}
        // In place, not in a portal: the suggestions stay inside the page's
        // landmarks (axe's "region" rule) and beside their field.
        comboboxProps={{ withinPortal: false }}
        value={c.path}
        error={pathProblem(c.path) ?? problems.path}
        onChange={(path) => set({ path })}
        renderOption={({ option }) => (
          <div>
            <Text size="sm" ff="monospace">{option.value}</Text>
            {describeField(option.value) && <Text size="xs" c="dimmed">{describeField(option.value)}</Text>}
          </div>
        )}
      />
      <NativeSelect
        label="Operator"
        miw={180}
        style={{ flex: '1 1 180px' }}
        value={c.operator}
        data={operators.map((o) => ({ value: o.value, label: o.label }))}
        error={problems.operator}
        onChange={(e) => onChange(withOperator(c, e.currentTarget.value as Operator))}
      />
      <Group gap="sm" align="flex-start" style={{ flex: '2 1 200px' }} wrap="nowrap">
        {kind === 'number' && (
          <TextInput label="Value" inputMode="decimal" style={{ flex: 1 }} value={c.value} error={number(c.value)} onChange={(e) => set({ value: e.currentTarget.value })} />
        )}
        {kind === 'range' && (
          <>
            <TextInput label="From" inputMode="decimal" style={{ flex: 1 }} value={c.low} error={number(c.low)} onChange={(e) => set({ low: e.currentTarget.value })} />
            <TextInput label="To" inputMode="decimal" style={{ flex: 1 }} value={c.high} error={number(c.high)} onChange={(e) => set({ high: e.currentTarget.value })} />
          </>
        )}
        {kind === 'text' && (
          <TextInput label="Text" style={{ flex: 1 }} value={c.value} error={problems.value} onChange={(e) => set({ value: e.currentTarget.value })} />
        )}
        {kind === 'texts' && (
          <TagsInput
            label="Texts"
            description="Press Enter after each"
            style={{ flex: 1 }}
            value={c.list}
            error={c.list.length === 0 ? 'Add at least one' : problems.value}
            onChange={(list) => set({ list })}
          />
        )}
        {kind === 'presence' && (
          <NativeSelect
            label="The field is"
            style={{ flex: 1 }}
            value={c.present ? 'present' : 'absent'}
            data={[
              { value: 'present', label: 'present' },
              { value: 'absent', label: 'absent' },
            ]}
            error={problems.value}
            onChange={(e) => set({ present: e.currentTarget.value === 'present' })}
          />
        )}
      </Group>
      <Button variant="subtle" color="red" size="compact-sm" mt={28} aria-label={`Remove ${name.toLowerCase()}`} onClick={onRemove}>
        Remove
      </Button>
    </Group>
  );
}
