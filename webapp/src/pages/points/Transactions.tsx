// Every points transaction, newest first, a page at a time: what it did in
// plain words, the order it belongs to (a link to it) or the note it was
// given, and the points it moved.
import { Anchor, Button, Group, Table, Text } from '@mantine/core';
import { useMemo, useState } from 'react';
import { Section } from '../../components/States';
import { count, orderNumber, when } from '../../lib/format';
import { describe, effect, noteOf, orderOf, storeOrder } from '../../lib/points';
import type { Transaction, TransactionPage } from '../../lib/types';
import { useApi } from '../../lib/useApi';
import { ScrollTable } from '../../components/ScrollTable';

const pageSize = 10;

// known: transactions already at hand (the page's recent history), where a
// reversal finds the transaction it reverses, and so its order.
export function Transactions({ account, known }: { account: string; known: Transaction[] }) {
  // cursors[i] opens page i; the API pages by cursor, so going back reuses them.
  const [cursors, setCursors] = useState<string[]>(['']);
  const [page, setPage] = useState(0);
  const cursor = cursors[page];
  const txs = useApi<TransactionPage>(`/points/transactions?account_id=${account}&limit=${pageSize}${cursor ? `&cursor=${cursor}` : ''}`);
  const next = txs.data?.next_cursor;
  const byId = useMemo(() => new Map([...known, ...(txs.data?.items ?? [])].map((t) => [t.id, t])), [known, txs.data]);

  return (
    <Section load={txs} isEmpty={(d) => d.items.length === 0 && page === 0} empty="No transactions yet.">
      {(d) => (
        <>
          <ScrollTable label="Transactions, scrollable" minWidth={560}>
            <Table aria-label="Transactions" striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>When</Table.Th>
                  <Table.Th>What</Table.Th>
                  <Table.Th>For</Table.Th>
                  <Table.Th ta="right">Points</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {d.items.map((t) => (
                  <Table.Tr key={t.id} data-type={t.transaction_type}>
                    <Table.Td>{when(t.date_time)}</Table.Td>
                    <Table.Td>{describe(t)}</Table.Td>
                    <Table.Td>
                      <For t={t} byId={byId} />
                    </Table.Td>
                    <Table.Td ta="right">
                      <Moved t={t} />
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
          <Group justify="space-between" mt="sm">
            <Button variant="default" size="xs" disabled={page === 0} onClick={() => setPage(page - 1)}>
              ← Newer
            </Button>
            <Text size="sm" c="dimmed">
              Page {page + 1}
            </Text>
            <Button
              variant="default"
              size="xs"
              disabled={!next}
              onClick={() => {
                if (!next) return;
                setCursors((c) => [...c.slice(0, page + 1), next]);
                setPage(page + 1);
              }}
            >
              Older →
            </Button>
          </Group>
        </>
      )}
    </Section>
  );
}

// For is what a transaction was for: its order (a link, when the order is
// one of the store's, which the customer's orders page shows), or its note.
function For({ t, byId }: { t: Transaction; byId: ReadonlyMap<string, Transaction> }) {
  const order = orderOf(t, byId);
  if (order !== undefined) {
    return storeOrder(order) ? (
      <Anchor href={`#/orders/${order}`} size="sm">
        Order {orderNumber(order)}
      </Anchor>
    ) : (
      <Text span size="sm">
        Order {orderNumber(order)}
      </Text>
    );
  }
  const note = noteOf(t);
  return note ? <Text span size="sm">{note}</Text> : null;
}

const signed = (n: number) => `${n >= 0 ? '+' : '−'}${count(Math.abs(n))}`;

// Moved is what a transaction did to the points one can spend; what it
// did only to pending points (earned, or taken back before they matured)
// says so.
function Moved({ t }: { t: Transaction }) {
  const { spendable, pending } = effect(t);
  if (spendable !== 0) {
    return (
      <Text span size="sm" fw={600} c={spendable > 0 ? 'teal' : 'red'}>
        {signed(spendable)}
      </Text>
    );
  }
  if (pending !== 0) {
    return (
      <Text span size="sm" fw={600} c="indigo">
        {signed(pending)} pending
      </Text>
    );
  }
  return null;
}
