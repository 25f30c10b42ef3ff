import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { locate } from '../lib/jsonpos';
import { ProblemList } from '../pages/Campaigns';
import { renderUI } from '../test/render';
import { diagnostics, JsonEditor, parseProblem } from './JsonEditor';

const draft = `{
  "client": "unicorn-store",
  "campaign_name": "weekend",
  "rules": [
    {"variable": "$.amount", "action": {"command": "issue", "formula": "$.amount / 10"}},
    {"action": {"command": "issue", "formula": "$.amount * bonus"}}
  ]
}`;

const at = (s: { from: number; to: number }) => draft.slice(s.from, s.to);

describe('placing the API’s errors', () => {
  it.each([
    { field: 'campaign_name', want: '"weekend"' },
    { field: 'rules[0].variable', want: '"$.amount"' },
    { field: 'rules[1].action', want: '{"command": "issue", "formula": "$.amount * bonus"}' },
    // a missing field is shown at the nearest thing that exists
    { field: 'rules[1].condition', want: '{"action": {"command": "issue", "formula": "$.amount * bonus"}}' },
    { field: 'rules[7].action.formula', want: draft.slice(draft.indexOf('['), draft.lastIndexOf(']') + 1) },
  ])('$field', ({ field, want }) => expect(at(locate(draft, field))).toBe(want));

  it('puts a formula error at its character', () => {
    // "bonus" starts at character 11 of the formula
    const span = locate(draft, 'rules[1].action.formula', 11);
    expect(at(span)).toBe('bonus');
    // an operator is marked alone
    expect(at(locate(draft, 'rules[1].action.formula', 9))).toBe('*');
  });

  it('counts escaped characters as one', () => {
    const text = '{"f": "\\"a\\" + x"}';
    const span = locate(text, 'f', 6);
    expect(text[span.from]).toBe('x');
  });

  it('places a JSON syntax error where the parser stopped', () => {
    const broken = '{"client": "a",, "rules": []}';
    const p = parseProblem(broken)!;
    expect(p.field).toBe('$json');
    const [d] = diagnostics(broken, [p]);
    expect(broken[d.from]).toBe(',');
  });

  it('lists problems with their field and character', () => {
    renderUI(<ProblemList checking={false} problems={[{ field: 'rules[1].action.formula', message: 'unknown name bonus', position: 11 }]} />);
    const p = screen.getByTestId('problem');
    expect(p.dataset.field).toBe('rules[1].action.formula');
    expect(p.textContent).toBe('rules[1].action.formula (character 12): unknown name bonus');
  });

  it('marks the text in the editor', async () => {
    const { container } = renderUI(
      <JsonEditor label="campaign" value={draft} onChange={() => undefined} problems={[{ field: 'rules[1].action.formula', message: 'unknown name bonus', position: 11 }]} />,
    );
    await waitFor(() => expect(container.querySelector('.cm-lintRange-error')?.textContent).toBe('bonus'));
  });
});
