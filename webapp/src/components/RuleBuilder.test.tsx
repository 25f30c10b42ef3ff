import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { MantineProvider } from '@mantine/core';
import axe from 'axe-core';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import { renderUI } from '../test/render';
import { RuleBuilder } from './RuleBuilder';

const pretty = (v: unknown) => JSON.stringify(v, null, 2);

const seed = pretty({
  client: 'UnicornStore',
  campaign_name: '1',
  description: 'A point for every 10.00 you spend',
  status: 'active',
  priority: 0,
  rules: [{ variable: '$.amount', condition: { rule: 'numeric_greater_than', value: 100 }, action: { command: 'issue', formula: '$.amount/10' } }],
});

// Console holds the text as the campaign console does: the form's changes
// come back to it as its value.
function Console({ initial, texts }: { initial: string; texts: string[] }) {
  const [text, setText] = useState(initial);
  return (
    <RuleBuilder
      value={text}
      onChange={(t) => {
        texts.push(t);
        setText(t);
      }}
    />
  );
}

function open(initial = seed) {
  const texts: string[] = [];
  const view = renderUI(<Console initial={initial} texts={texts} />);
  const last = () => JSON.parse(texts.at(-1)!);
  return { ...view, texts, last };
}

const rule = (n: number) => screen.getByRole('group', { name: `Rule ${n}` });
const condition = (c: number, r: number) => screen.getByRole('group', { name: `Condition ${c} of rule ${r}` });

// Rendering every input of a campaign takes seconds on a busy 2-core machine.
describe('the rule builder', { timeout: 60_000 }, () => {
  it('shows the campaign in the form', () => {
    open();
    expect((screen.getByLabelText('Name') as HTMLInputElement).value).toBe('1');
    const c = within(condition(1, 1));
    expect((c.getByRole('combobox', { name: 'Field' }) as HTMLInputElement).value).toBe('$.amount');
    expect((c.getByLabelText('Operator') as HTMLSelectElement).value).toBe('numeric_greater_than');
    expect((c.getByLabelText('Value') as HTMLInputElement).value).toBe('100');
    expect((within(rule(1)).getByLabelText('Points formula') as HTMLInputElement).value).toBe('$.amount/10');
  });

  it('offers the purchase’s fields, with what each is, as a field path is typed', async () => {
    const { last } = open();
    const input = within(condition(1, 1)).getByRole('combobox', { name: 'Field' });
    fireEvent.focus(input);
    fireEvent.change(input, { target: { value: 'tier' } });
    // (the dropdown may still be in its opening transition: hidden to the queries)
    const options = () => {
      const list = within(condition(1, 1)).queryByRole('listbox', { hidden: true });
      return list ? within(list).queryAllByRole('option', { hidden: true }) : [];
    };
    const listed = () => options().map((o) => o.textContent);
    await waitFor(
      () =>
        expect(listed()).toEqual([
          '$.customer.tierThe customer’s membership tier, such as silver (empty without tiers)',
          '$.customer.tier_multiplierThe multiplier of the customer’s tier (1 without tiers)',
        ]),
      { timeout: 10_000 },
    );
    fireEvent.click(options()[0]);
    await waitFor(() => expect(last().rules[0].variable).toBe('$.customer.tier'), { timeout: 10_000 });
    // a description finds a field too
    fireEvent.change(input, { target: { value: 'money charged' } });
    await waitFor(() => expect(listed()).toEqual(['$.amountMoney charged for the order, after points paid part of it']), { timeout: 10_000 });
  });

  it('writes a changed date into the JSON, in UTC, and a cleared one out of it', () => {
    const { last, texts } = open();
    fireEvent.change(screen.getByLabelText('Starts'), { target: { value: '2026-12-01T09:30' } });
    expect(last().starts_at).toBe('2026-12-01T09:30:00Z');
    // where a person would write it, the rest as it was
    const { priority, rules, ...head } = JSON.parse(seed);
    expect(texts.at(-1)).toBe(pretty({ ...head, starts_at: '2026-12-01T09:30:00Z', priority, rules }));
    fireEvent.change(screen.getByLabelText('Ends'), { target: { value: '2026-11-01T00:00' } });
    expect(screen.getByText('The end must be after the start')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Starts'), { target: { value: '' } });
    expect(last().starts_at).toBeUndefined();
    expect(last().ends_at).toBe('2026-11-01T00:00:00Z');
  });

  it('adds and removes rules and conditions', () => {
    const { last } = open();
    expect(screen.queryByRole('button', { name: 'Remove rule 1' })).toBeNull(); // a campaign keeps one rule
    fireEvent.click(screen.getByRole('button', { name: 'Add rule' }));
    expect(last().rules).toHaveLength(2);
    expect(last().rules[1].action).toEqual({ command: 'issue', formula: '$.amount / 10' });
    fireEvent.change(within(rule(2)).getByLabelText('Points formula'), { target: { value: '$.quantity * 5' } });
    expect(last().rules[1].action.formula).toBe('$.quantity * 5');

    fireEvent.click(screen.getByRole('button', { name: 'Add condition to rule 2' }));
    expect(last().rules[1].condition).toEqual({ all: [{ rule: 'numeric_greater_than', value: '' }, { rule: 'numeric_greater_than', value: '' }] });
    const second = within(condition(2, 2));
    fireEvent.change(second.getByRole('combobox', { name: 'Field' }), { target: { value: '$.customer.tier' } });
    fireEvent.change(second.getByLabelText('Operator'), { target: { value: 'string_in' } });
    expect(last().rules[1].condition.all[1]).toEqual({ variable: '$.customer.tier', rule: 'string_in', value: [] });
    fireEvent.change(within(rule(2)).getByLabelText('Earns points when the purchase matches'), { target: { value: 'any' } });
    expect(Object.keys(last().rules[1].condition)).toEqual(['any']);
    fireEvent.click(screen.getByRole('button', { name: 'Remove condition 1 of rule 2' }));
    expect(last().rules[1].condition).toEqual({ variable: '$.customer.tier', rule: 'string_in', value: [] });

    fireEvent.click(screen.getByRole('button', { name: 'Remove rule 1' }));
    expect(last().rules).toHaveLength(1);
    expect(last().rules[0].action.formula).toBe('$.quantity * 5');
    expect(last()).toMatchObject({ client: 'UnicornStore', status: 'active', priority: 0 }); // fields the form does not show stay
  });

  it('suggests the purchase’s number fields for the path typed in a formula, and completes only that path', async () => {
    const { last } = open();
    const formula = screen.getByLabelText('Points formula') as HTMLInputElement;
    // (the dropdown may still be in its opening transition: hidden to the queries)
    const list = () => screen.queryByRole('listbox', { name: 'Fields of the purchase', hidden: true });
    const suggested = async () => {
      await waitFor(() => expect(list()).not.toBeNull());
      return within(list()!).getAllByRole('option', { hidden: true });
    };
    const noSuggestions = () => waitFor(() => expect(list() ? within(list()!).queryAllByRole('option', { hidden: true }) : []).toHaveLength(0));
    fireEvent.change(formula, { target: { value: '$.amount / 10 * $.q', selectionStart: 19, selectionEnd: 19 } });
    const options = await suggested();
    expect(options.map((o) => o.textContent)).toEqual([expect.stringMatching(/^\$\.quantityUnits bought/)]);
    fireEvent.click(options[0]);
    expect(last().rules[0].action.formula).toBe('$.amount / 10 * $.quantity');
    await waitFor(() => expect(formula.selectionStart).toBe(26)); // the caret after the field, to go on typing
    await noSuggestions();

    // Choosing the path already there changes nothing but the caret.
    fireEvent.change(formula, { target: { value: '$.items[0].amount * 2', selectionStart: 11, selectionEnd: 11 } });
    const lines = await suggested();
    // (each option is the path, then its description, which starts with a capital)
    expect(lines.map((o) => /^[^A-Z]+/.exec(o.textContent ?? '')?.[0])).toEqual(['$.items[0].quantity', '$.items[0].price', '$.items[0].amount']);
    const before = last();
    fireEvent.click(lines[2]);
    await waitFor(() => expect(formula.selectionStart).toBe(17));
    expect(last()).toEqual(before);

    // A text field is not offered, and outside a path nothing is.
    fireEvent.change(formula, { target: { value: '$.customer.tier', selectionStart: 15, selectionEnd: 15 } });
    expect((await suggested()).map((o) => o.textContent)).toEqual([expect.stringMatching(/^\$\.customer\.tier_multiplier/)]);
    fireEvent.change(formula, { target: { value: 'floor(', selectionStart: 6, selectionEnd: 6 } });
    await noSuggestions();
  });

  it('follows the JSON when it changes', () => {
    const { rerender } = renderUI(<RuleBuilder value={seed} onChange={() => undefined} />);
    const show = (value: string) => rerender(<MantineProvider><RuleBuilder value={value} onChange={() => undefined} /></MantineProvider>);
    show(seed.replace('"$.amount/10"', '"$.amount/5"'));
    expect((screen.getByLabelText('Points formula') as HTMLInputElement).value).toBe('$.amount/5');
    show('{"client": ');
    expect(screen.getByText(/The form cannot show this campaign/)).toBeTruthy();
    expect(screen.getByText(/The JSON is not valid/)).toBeTruthy();
    expect(screen.queryByLabelText('Name')).toBeNull();
  });

  it('shows the API’s problems beside their fields', () => {
    renderUI(
      <RuleBuilder
        value={seed}
        onChange={() => undefined}
        problems={[
          { field: 'rules[0].action.formula', message: 'unknown name bonus' },
          { field: 'rules[0].variable', message: '"amount" is not a JSONPath: it must start with $' },
        ]}
      />,
    );
    expect(within(rule(1)).getByText('unknown name bonus')).toBeTruthy();
    expect(within(condition(1, 1)).getByText('"amount" is not a JSONPath: it must start with $')).toBeTruthy();
  });

  it('has no accessibility violations', async () => {
    const many = pretty({
      ...JSON.parse(seed),
      starts_at: 'soon',
      rules: [
        { condition: { any: [{ variable: '$.amount', rule: 'numeric_between', value: [10, 20] }, { variable: '$.customer.tier', rule: 'string_in', value: ['gold'] }] }, action: { command: 'issue', formula: '' } },
        { variable: '$.items[0].name', condition: { rule: 'is_present' }, action: { command: 'issue', formula: '1' } },
        { condition: { not: { variable: '$.amount', rule: 'numeric_less_than', value: 1 } }, action: { command: 'issue', formula: '2' } },
      ],
    });
    const { container } = open(many);
    // jsdom cannot compute colours (the browser tests check contrast) nor
    // draw on a canvas (axe looks for icon fonts with one: none here).
    HTMLCanvasElement.prototype.getContext = () => null;
    const result = await axe.run(container, { rules: { 'color-contrast': { enabled: false }, 'label-content-name-mismatch': { enabled: true } } });
    expect(result.passes.map((p) => p.id)).toContain('label');
    expect(result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
  });
});
