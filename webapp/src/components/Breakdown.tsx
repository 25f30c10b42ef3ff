// Why an order earned its points: one row per campaign rule that matched.
import { Code, Table, Text } from '@mantine/core';
import { count } from '../lib/format';
import type { AwardLine } from '../lib/types';

function inputs(v: Record<string, unknown>): string {
  return Object.entries(v ?? {})
    .map(([k, x]) => `${k} = ${typeof x === 'object' ? JSON.stringify(x) : String(x)}`)
    .join(', ');
}

export function Breakdown({ lines, total }: { lines?: AwardLine[]; total: number }) {
  if (!lines || lines.length === 0) return <Text c="dimmed">No campaign matched this purchase, so it earned no points.</Text>;
  // A customer reads what each campaign gave, in its own words; staff read
  // how each rule computed it.
  if (lines.every((l) => l.formula === undefined)) {
    return (
      <Table striped aria-label="Points breakdown">
        <Table.Tbody>
          {lines.map((l, i) => (
            <Table.Tr key={i}>
              <Table.Td>
                {l.description}
                {l.note && (
                  <Text size="xs" c="dimmed">
                    {l.note}
                  </Text>
                )}
              </Table.Td>
              <Table.Td ta="right" fw={600}>
                {count(l.points)}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
        <Table.Tfoot>
          <Table.Tr>
            <Table.Th>Total</Table.Th>
            <Table.Th ta="right">{count(total)}</Table.Th>
          </Table.Tr>
        </Table.Tfoot>
      </Table>
    );
  }
  return (
    <Table.ScrollContainer type="native" minWidth={520} tabIndex={0} role="region" aria-label="Points breakdown, scrollable">
      <Table striped aria-label="Points breakdown">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Campaign</Table.Th>
            <Table.Th>Rule</Table.Th>
            <Table.Th>Formula</Table.Th>
            <Table.Th>With</Table.Th>
            <Table.Th ta="right">Points</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {lines.map((l, i) => (
            <Table.Tr key={i}>
              <Table.Td>
                {l.campaign_name}{' '}
                {/* A draft being simulated has no version yet (the API says 0). */}
                <Text span size="xs" c="dimmed">{l.campaign_version ? `v${l.campaign_version}` : 'draft'}</Text>
              </Table.Td>
              <Table.Td>#{(l.rule_index ?? 0) + 1}</Table.Td>
              <Table.Td>
                <Code>{l.formula}</Code>
              </Table.Td>
              <Table.Td>
                <Text size="xs">{inputs(l.inputs ?? {})}</Text>
                {l.raw !== undefined && String(l.raw) !== String(l.points) && (
                  <Text size="xs" c="dimmed">
                    exact value {String(l.raw)}, rounded
                  </Text>
                )}
                {l.note && (
                  <Text size="xs" c="orange">
                    {l.note}
                  </Text>
                )}
              </Table.Td>
              <Table.Td ta="right" fw={600}>
                {count(l.points)}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
        <Table.Tfoot>
          <Table.Tr>
            <Table.Th colSpan={4}>Total</Table.Th>
            <Table.Th ta="right">{count(total)}</Table.Th>
          </Table.Tr>
        </Table.Tfoot>
      </Table>
    </Table.ScrollContainer>
  );
}
