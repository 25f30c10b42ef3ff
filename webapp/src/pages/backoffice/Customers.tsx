// Customer lookup: find a customer by username, then see their wallet (and
// deposit money in it), their points and the transactions behind them
// (where an admin may reverse one), and their orders.
import { Anchor, Button, Group, Modal, NumberInput, Paper, SimpleGrid, Stack, Table, Text, TextInput, Title, VisuallyHidden } from '@mantine/core';
import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { Empty, ErrorNote, Loading, Section } from '../../components/States';
import { ApiError, errorText, get, newKey, request } from '../../lib/api';
import { depositProblem, fieldErrors, pointsChange, reversalQuestion, reversalResult, reversible } from '../../lib/backoffice';
import { count, orderNumber, when } from '../../lib/format';
import { money } from '../../lib/money';
import { balanceWords, describe } from '../../lib/points';
import { go } from '../../lib/route';
import type { Balance, Order, OrderPage, Transaction, TransactionPage, Wallet } from '../../lib/types';
import { useApi } from '../../lib/useApi';
import type { components } from '../../lib/api-types';
import { StatusBadge } from '../Orders';
import { ScrollTable } from '../../components/ScrollTable';
import { NoteAlert, type Note } from './parts';

type UserList = components['schemas']['UserList'];

const customerPath = (u: string) => `/admin/customers/${encodeURIComponent(u)}`;

export function Customers({ username }: { username?: string }) {
  const users = useApi<UserList>('/users');
  const customers = (users.data?.items ?? []).filter((u) => u.role === 'customer').map((u) => u.username);
  return (
    <Stack gap="lg">
      <Find customers={customers} current={username} />
      {username && <Customer key={username} username={username} />}
    </Stack>
  );
}

// Find searches the customers by username as the admin types; Enter opens
// the one that matches.
function Find({ customers, current }: { customers: string[]; current?: string }) {
  const [query, setQuery] = useState(current ?? '');
  const [error, setError] = useState<string>();
  const q = query.trim().toLowerCase();
  const matches = q ? customers.filter((u) => u.toLowerCase().includes(q)).slice(0, 10) : [];

  function submit(e: FormEvent) {
    e.preventDefault();
    const exact = customers.find((u) => u.toLowerCase() === q);
    const one = exact ?? (matches.length === 1 ? matches[0] : undefined);
    if (!q) setError('Enter a username.');
    else if (one) go(customerPath(one));
    else setError(matches.length > 1 ? 'Several customers match: choose one below.' : `No customer's username has “${query.trim()}” in it.`);
  }

  return (
    <Paper withBorder p="md" maw={560}>
      <form onSubmit={submit} role="search" aria-label="Find a customer">
        <Stack gap="xs">
          <Title order={2} size="h4">Find a customer</Title>
          <Group align="flex-start" gap="xs">
            <TextInput label="Username" placeholder="derick" value={query} style={{ flex: 1 }} error={error} autoComplete="off"
              onChange={(e) => { setQuery(e.currentTarget.value); setError(undefined); }} />
            <Button type="submit" mt={25}>Look up</Button>
          </Group>
          {matches.length > 0 && !(matches.length === 1 && matches[0] === current) && (
            <Group gap="xs" data-testid="customer-matches">
              <Text size="sm" c="dimmed">Matching customers:</Text>
              {matches.map((u) => (
                <Anchor key={u} href={`#${customerPath(u)}`} aria-current={u === current ? 'page' : undefined}>{u}</Anchor>
              ))}
            </Group>
          )}
        </Stack>
      </form>
    </Paper>
  );
}

function Customer({ username }: { username: string }) {
  const name = encodeURIComponent(username);
  const wallet = useApi<Wallet>(`/users/${name}/wallet`);
  const balance = useApi<Balance>(`/points?account_id=${name}&limit=100`);
  if (wallet.error instanceof ApiError && wallet.error.status === 404) {
    return <Empty>No customer is named {username}.</Empty>;
  }
  return (
    <Stack gap="lg" data-testid="customer">
      <Title order={2} size="h3">{username}</Title>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <Paper withBorder p="md">
          <Stack gap="xs">
            <Title order={3} size="h5">Wallet</Title>
            <Section load={wallet}>
              {(w) => <Text size="xl" fw={700} data-testid="customer-wallet">${money(w.balance)}</Text>}
            </Section>
            <Deposit username={username} onDeposited={wallet.set} />
          </Stack>
        </Paper>
        <Paper withBorder p="md">
          <Stack gap="xs">
            <Title order={3} size="h5">Points</Title>
            <Section load={balance}>
              {(b) => (
                <Text size="xl" fw={700} data-testid="customer-points">{balanceWords(b.balance, b.pending, b.balance_entries)}</Text>
              )}
            </Section>
          </Stack>
        </Paper>
      </SimpleGrid>
      <Transactions username={username} onReversed={balance.reload} />
      <CustomerOrders username={username} />
    </Stack>
  );
}

// Deposit adds money to the customer's wallet. Sending the form twice by
// accident deposits once: the key changes only with what is typed.
function Deposit({ username, onDeposited }: { username: string; onDeposited: (w: Wallet) => void }) {
  const [amount, setAmount] = useState<string | number>('');
  const [error, setError] = useState<string>();
  const [note, setNote] = useState<Note>();
  const [busy, setBusy] = useState(false);
  const [key, setKey] = useState(newKey);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setNote(undefined);
    const problem = depositProblem(amount);
    setError(problem);
    if (problem) return;
    setBusy(true);
    try {
      const w = await request<Wallet>('POST', `/users/${encodeURIComponent(username)}/wallet/deposits`, { amount: Number(amount) }, { headers: { 'Idempotency-Key': key } });
      setNote({ ok: true, text: `Deposited $${money(amount)}: ${w.username} now has $${money(w.balance)}.` });
      setAmount('');
      setKey(newKey());
      onDeposited(w);
    } catch (err) {
      const placed = fieldErrors(err).amount;
      if (placed) setError(placed);
      else setNote({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} aria-label="Deposit" noValidate>
      <Stack gap="xs">
        <NoteAlert note={note} />
        <Group align="flex-start" gap="xs">
          <NumberInput label="Amount to deposit" description="Sending twice by accident deposits once." prefix="$" decimalScale={2} thousandSeparator=","
            value={amount} style={{ flex: 1 }} error={error}
            onChange={(v) => { setAmount(v); setError(undefined); setKey(newKey()); }} />
        </Group>
        <Group>
          <Button type="submit" loading={busy}>Deposit</Button>
        </Group>
      </Stack>
    </form>
  );
}

const txPage = 20;

// Transactions is the customer's points ledger, newest first, where an
// issue or a redemption can be reversed once, after a confirmation.
function Transactions({ username, onReversed }: { username: string; onReversed: () => void }) {
  const [items, setItems] = useState<Transaction[]>();
  const [cursor, setCursor] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [more, setMore] = useState(false);
  const [reversing, setReversing] = useState<{ t: Transaction; key: string }>();
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<Note>();
  const base = `/points/transactions?account_id=${encodeURIComponent(username)}`;

  const load = useCallback(async (limit = txPage) => {
    try {
      const p = await get<TransactionPage>(`${base}&limit=${limit}`);
      setItems(p.items);
      setCursor(p.next_cursor);
      setError(undefined);
    } catch (e) {
      setError(e);
    }
  }, [base]);
  useEffect(() => void load(), [load]);

  async function older() {
    if (!cursor) return;
    setMore(true);
    try {
      const p = await get<TransactionPage>(`${base}&limit=${txPage}&cursor=${encodeURIComponent(cursor)}`);
      setItems((xs) => [...(xs ?? []), ...p.items]);
      setCursor(p.next_cursor);
    } catch (e) {
      setNote({ ok: false, text: `Could not load older transactions: ${errorText(e)}` });
    } finally {
      setMore(false);
    }
  }

  async function reverse(t: Transaction, key: string) {
    setBusy(true);
    setNote(undefined);
    try {
      const r = await request<Transaction>('POST', `/points/transactions/${encodeURIComponent(t.id)}/reversal`, { account_id: username }, { headers: { 'Idempotency-Key': key } });
      setNote({ ok: true, text: reversalResult(r) });
    } catch (e) {
      setNote({ ok: false, text: `Not reversed: ${errorText(e)}` });
    } finally {
      setBusy(false);
      setReversing(undefined);
      onReversed();
      void load(Math.max(txPage, items?.length ?? 0));
    }
  }

  return (
    <Stack gap="xs">
      <Title order={3} size="h4">Points transactions</Title>
      <NoteAlert note={note} onClose={() => setNote(undefined)} testId="reversal-note" />
      <Section load={{ data: items, error, loading: items === undefined, reload: () => void load() }} isEmpty={(d) => d.length === 0}
        empty="No points transactions yet.">
        {(list) => (
          <ScrollTable label="Points transactions table" minWidth={640}>
            <Table aria-label="Points transactions" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>When</Table.Th>
                  <Table.Th>What</Table.Th>
                  <Table.Th ta="right">Points</Table.Th>
                  <Table.Th><VisuallyHidden>Actions</VisuallyHidden></Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((t) => {
                  return (
                    <Table.Tr key={t.id} data-testid="customer-transaction" data-type={t.transaction_type}>
                      <Table.Td>{when(t.date_time)}</Table.Td>
                      <Table.Td>{describe(t)}</Table.Td>
                      <Table.Td ta="right">{pointsChange(t)}</Table.Td>
                      <Table.Td ta="right">
                        {reversible(t, list) && (
                          <Button size="xs" variant="subtle" color="red" onClick={() => setReversing({ t, key: newKey() })}
                            aria-label={`Reverse ${describe(t).toLowerCase()} of ${when(t.date_time)}`}>
                            Reverse
                          </Button>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </ScrollTable>
        )}
      </Section>
      {cursor && (
        <Group>
          <Button variant="default" loading={more} onClick={() => void older()}>Older transactions</Button>
        </Group>
      )}
      <Modal opened={reversing !== undefined} onClose={() => setReversing(undefined)} title="Reverse this transaction?">
        {reversing && (
          <Stack>
            <Text>
              {describe(reversing.t)}, {count(reversing.t.amount)} points on {when(reversing.t.date_time)}.
            </Text>
            <Text>{reversalQuestion(reversing.t, username)} A transaction is reversed once; this cannot be undone.</Text>
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setReversing(undefined)}>Keep it</Button>
              <Button color="red" loading={busy} onClick={() => void reverse(reversing.t, reversing.key)}>Reverse transaction</Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </Stack>
  );
}

const orderPage = 10;

function CustomerOrders({ username }: { username: string }) {
  const [items, setItems] = useState<Order[]>();
  const [cursor, setCursor] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [more, setMore] = useState(false);
  const base = `/orders?user_id=${encodeURIComponent(username)}&limit=${orderPage}`;

  const load = useCallback(async (after?: string) => {
    if (after) setMore(true);
    try {
      const p = await get<OrderPage>(after ? `${base}&cursor=${encodeURIComponent(after)}` : base);
      setItems((xs) => (after ? [...(xs ?? []), ...p.items] : p.items));
      setCursor(p.next_cursor);
      setError(undefined);
    } catch (e) {
      setError(e);
    } finally {
      setMore(false);
    }
  }, [base]);
  useEffect(() => void load(), [load]);

  return (
    <Stack gap="xs">
      <Title order={3} size="h4">Orders</Title>
      {error !== undefined && items !== undefined && <ErrorNote error={error} onRetry={() => void load(cursor)} />}
      {items === undefined && error !== undefined && <ErrorNote error={error} onRetry={() => void load()} />}
      {items === undefined && error === undefined && <Loading />}
      {items?.length === 0 && <Empty>No orders yet.</Empty>}
      {items && items.length > 0 && <OrderTable orders={items} label="Orders of the customer" withCustomer={false} />}
      {cursor && (
        <Group>
          <Button variant="default" loading={more} onClick={() => void load(cursor)}>Older orders</Button>
        </Group>
      )}
    </Stack>
  );
}

// OrderTable lists orders with links to each; actions adds a last column
// (the "Retry" of an order that needs attention).
export function OrderTable({ orders, label, withCustomer = true, action }: {
  orders: Order[];
  label: string;
  withCustomer?: boolean;
  action?: (o: Order) => ReactNode;
}) {
  return (
    <ScrollTable label={`${label} table`} minWidth={withCustomer ? 820 : 680}>
      <Table aria-label={label} verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Order</Table.Th>
            {withCustomer && <Table.Th>Customer</Table.Th>}
            <Table.Th>Placed</Table.Th>
            <Table.Th>Items</Table.Th>
            <Table.Th ta="right">Total</Table.Th>
            <Table.Th>Status</Table.Th>
            {action && <Table.Th><VisuallyHidden>Actions</VisuallyHidden></Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {orders.map((o) => (
            <Table.Tr key={o.id} data-testid="admin-order">
              <Table.Td><Anchor href={`#/admin/orders/${encodeURIComponent(o.id)}`}>{orderNumber(o.id)}</Anchor></Table.Td>
              {withCustomer && <Table.Td><Anchor href={`#${customerPath(o.user_id)}`}>{o.user_id}</Anchor></Table.Td>}
              <Table.Td>{when(o.created_at)}</Table.Td>
              <Table.Td>{o.lines.map((l) => `${count(l.quantity)} × ${l.name}`).join(', ')}</Table.Td>
              <Table.Td ta="right">${money(o.total)}</Table.Td>
              <Table.Td>
                <StatusBadge status={o.status} />
                {o.failure_reason && <Text size="xs" c="dimmed">{o.failure_reason}</Text>}
              </Table.Td>
              {action && <Table.Td ta="right">{action(o)}</Table.Td>}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollTable>
  );
}
