// The points formula of a rule, with suggestions of the purchase event's
// number fields for the path being typed: "$.amount / 10 * $.q" offers
// $.quantity, and choosing it replaces only that path.
import { Combobox, Text, TextInput, useCombobox } from '@mantine/core';
import { useLayoutEffect, useRef, useState } from 'react';
import { completeField, formulaFields } from '../lib/eventFields';

type Props = { value: string; error?: string; onChange: (formula: string) => void };

export function FormulaInput({ value, error, onChange }: Props) {
  const combobox = useCombobox({ onDropdownClose: () => combobox.resetSelectedOption() });
  const input = useRef<HTMLInputElement>(null);
  const [caret, setCaret] = useState(value.length);
  // Where the caret goes once a completed formula is back from the form
  // (a new value puts the browser's caret at the end).
  const place = useRef<number | null>(null);
  useLayoutEffect(() => {
    if (place.current === null || !input.current) return;
    input.current.setSelectionRange(place.current, place.current);
    place.current = null;
  }, [value]);

  const fields = combobox.dropdownOpened ? formulaFields(value, caret) : [];
  const track = (el: HTMLInputElement) => setCaret(el.selectionStart ?? el.value.length);
  return (
    <Combobox
      store={combobox}
      // In place, not in a portal, as the condition fields' suggestions.
      withinPortal={false}
      onOptionSubmit={(path) => {
        const next = completeField(value, caret, path);
        setCaret(next.caret);
        if (next.formula === value) {
          // The path that was there already: no new value will come back
          // to place the caret, so it moves now.
          input.current?.setSelectionRange(next.caret, next.caret);
        } else {
          place.current = next.caret;
          onChange(next.formula);
        }
        combobox.closeDropdown();
      }}
    >
      <Combobox.Target>
        <TextInput
          ref={input}
          label="Points formula"
          description="Points for a matching purchase, such as $.amount / 10: fields (type $. for them), numbers, + - * / ( ), min, max, floor, ceil, round, abs"
          styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
          autoComplete="off"
          value={value}
          error={error}
          onChange={(e) => {
            track(e.currentTarget);
            onChange(e.currentTarget.value);
            combobox.openDropdown();
            combobox.updateSelectedOptionIndex();
          }}
          onSelect={(e) => track(e.currentTarget)}
          onBlur={() => combobox.closeDropdown()}
        />
      </Combobox.Target>
      <Combobox.Dropdown hidden={fields.length === 0}>
        <Combobox.Options aria-label="Fields of the purchase">
          {fields.map((f) => (
            <Combobox.Option value={f.path} key={f.path}>
              <Text size="sm" ff="monospace">{f.path}</Text>
              <Text size="xs" c="dimmed">{f.description}</Text>
            </Combobox.Option>
          ))}
        </Combobox.Options>
      </Combobox.Dropdown>
    </Combobox>
  );
}
