// Returning some of an order's lines or cancelling it (what is left), on the
// order page of its customer and of an admin, and the order's returns with
// their sagas.
import { Alert, Badge, Button, Group, Modal, NumberInput, Paper, SimpleGrid, Stack, Table, Text, Textarea, Title } from '@mantine/core';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { SagaTimeline } from '../components/SagaTimeline';
import { useAccount } from '../lib/account';
import { ApiError, errorText, newKey, retryOrder, returnOrder } from '../lib/api';
import { day, when } from '../lib/format';
import { formatMoney, money, parseMoney, times } from '../lib/money';
import { leftOf, newReturn, policy, staffPolicy, returnability, returnLines, returnNumber, returnOutcome, returnProblems, type ReturnProblems } from '../lib/returns';
import { toneColor } from '../lib/saga';
import type { Order, OrderReturn, ReturnRequest } from '../lib/types';

type Problem = { title: string; text: string };

// problemOf is what to tell a person about a refused return: the problem's
// own title and detail (a 4xx says what to change, never "something went
// wrong").
function problemOf(err: unknown): Problem {
  if (err instanceof ApiError) return { title: err.title || 'The return was refused', text: err.message || errorText(err) };
  return { title: 'The return could not be sent', text: errorText(err) };
}

const noProblems: ReturnProblems = { byProduct: {}, rest: [] };

type Props = { order: Order; admin: boolean; onOrder: (o: Order) => void; reload: () => void };

// ReturnPanel: until when the order can be returned, and the actions to
// return some of it or cancel it, then how the return went.
export function ReturnPanel({ order, admin, onOrder, reload }: Props) {
  const can = returnability(order, admin);
  const [mode, setMode] = useState<'lines' | 'all' | null>(null);
  const [chosen, setChosen] = useState<Record<string, number | string>>({});
  const [reason, setReason] = useState('');
  // One key per action: sending it twice (a double click, a retry after
  // a lost answer) makes one return. Changing what to return is another
  // action.
  const [key, setKey] = useState(newKey);
  const [busy, setBusy] = useState(false);
  const sending = useRef(false);
  const [problem, setProblem] = useState<Problem>();
  const [problems, setProblems] = useState<ReturnProblems>(noProblems);
  const [notice, setNotice] = useState<Problem>();
  const [followed, setFollowed] = useState<string>();
  const { refresh } = useAccount();

  const followedReturn = order.returns?.find((r) => r.id === followed);
  const settled = followedReturn !== undefined && followedReturn.status !== 'pending';
  useEffect(() => {
    // The wallet and points in the header moved.
    if (settled) void refresh();
  }, [settled, followed, refresh]);

  function open(m: 'lines' | 'all') {
    setMode(m);
    setChosen({});
    setReason('');
    setKey(newKey());
    setProblem(undefined);
    setProblems(noProblems);
    setNotice(undefined);
  }

  function close() {
    if (!sending.current) setMode(null);
  }

  async function submit(body: ReturnRequest) {
    if (sending.current) return;
    sending.current = true;
    setBusy(true);
    setProblem(undefined);
    setProblems(noProblems);
    const before = (order.returns ?? []).map((r) => r.id);
    try {
      const answer = await returnOrder(order.id, body, key);
      setFollowed(newReturn(answer.body, before)?.id);
      onOrder(answer.body); // a 202's return is pending: the page follows it
      setMode(null);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        // The order is not what the page showed (its window closed,
        // everything was returned meanwhile): say why, beside the order as
        // it is now.
        setMode(null);
        setNotice(problemOf(err));
        reload();
      } else {
        setProblems(returnProblems(err, body.lines ?? []));
        setProblem(problemOf(err));
      }
    } finally {
      sending.current = false;
      setBusy(false);
    }
  }

  const lines = returnLines(order, chosen);
  const count = lines.reduce((n, l) => n + l.quantity, 0);
  const tooMany = (id: string, left: number) => Number(chosen[id] ?? 0) > left;
  const canSend = count > 0 && !order.lines.some((l) => tooMany(l.product_id, leftOf(l)));
  const outcome = followedReturn && returnOutcome(followedReturn, admin ? order.user_id : undefined);
  const leftLines = order.lines.filter((l) => leftOf(l) > 0);

  return (
    <Paper withBorder p="md" mt="md" component="section" aria-labelledby="return-or-cancel">
      <Stack gap="sm">
        <Title order={2} size="h4" id="return-or-cancel">
          Return or cancel
        </Title>
        <WindowNote order={order} admin={admin} />
        {notice && (
          <Alert color="red" title={notice.title} role="alert" withCloseButton closeButtonLabel="Dismiss" onClose={() => setNotice(undefined)}>
            {notice.text}
          </Alert>
        )}
        {outcome && (
          <Alert color={toneColor[outcome.tone]} title={outcome.title} role="status" data-testid="return-outcome" data-tone={outcome.tone}>
            {outcome.text}
          </Alert>
        )}
        {can.allowed && (
          <>
            <Text size="sm" c="dimmed">
              {admin ? staffPolicy : policy}
            </Text>
            <Group>
              <Button variant="light" onClick={() => open('lines')}>
                Return items
              </Button>
              <Button variant="outline" color="red" onClick={() => open('all')}>
                Cancel order
              </Button>
            </Group>
          </>
        )}
      </Stack>

      <Modal opened={mode === 'lines'} onClose={close} title="Return items" centered>
        <form
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            if (canSend) void submit({ lines, ...(reason.trim() ? { reason: reason.trim() } : {}) });
          }}
        >
          <Stack>
            <Text size="sm">{admin ? `How many of each unicorn does ${order.user_id} return?` : 'How many of each unicorn do you want to return?'}</Text>
            {problem && (
              <Alert color="red" title={problem.title} role="alert" data-testid="return-problem">
                {problem.text}
              </Alert>
            )}
            {leftLines.map((l, i) => {
              const left = leftOf(l);
              return (
                <NumberInput
                  key={l.product_id}
                  label={l.name}
                  description={`Up to ${left} (${l.quantity} bought${l.returned ? `, ${l.returned} returned` : ''}) · $${money(l.unit_price)} each`}
                  min={0}
                  max={left}
                  allowDecimal={false}
                  allowNegative={false}
                  value={chosen[l.product_id] ?? 0}
                  onChange={(v) => {
                    setChosen((c) => ({ ...c, [l.product_id]: v }));
                    setKey(newKey());
                  }}
                  error={problems.byProduct[l.product_id] ?? (tooMany(l.product_id, left) ? `Only ${left} left to return` : undefined)}
                  data-autofocus={i === 0 ? true : undefined}
                />
              );
            })}
            <Textarea
              label="Reason (optional)"
              autosize
              minRows={2}
              maxLength={500}
              value={reason}
              onChange={(e) => {
                setReason(e.currentTarget.value);
                setKey(newKey());
              }}
              error={problems.reason}
            />
            <Text size="xs" c="dimmed">
              {admin ? staffPolicy : policy}
            </Text>
            <Group justify="flex-end">
              <Button variant="default" onClick={close} disabled={busy}>
                Not now
              </Button>
              <Button type="submit" loading={busy} disabled={!canSend}>
                {count > 0 ? `Return ${count} item${count === 1 ? '' : 's'}` : 'Return items'}
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>

      <Modal opened={mode === 'all'} onClose={close} title="Cancel the order?" centered>
        <Stack>
          {problem && (
            <Alert color="red" title={problem.title} role="alert" data-testid="return-problem">
              {problem.text}
            </Alert>
          )}
          <Text size="sm">Everything not returned yet goes back:</Text>
          <Text size="sm" fw={500}>
            {leftLines.map((l) => `${leftOf(l)} × ${l.name}`).join(', ')}
          </Text>
          <Text size="xs" c="dimmed">
            {admin ? staffPolicy : policy}
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={close} disabled={busy} data-autofocus>
              Keep the order
            </Button>
            <Button color="red" loading={busy} onClick={() => void submit({})}>
              Yes, cancel the order
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Paper>
  );
}

// WindowNote says until when the customer may return the order; an admin
// reads it too, and that the window does not bind them.
function WindowNote({ order, admin }: { order: Order; admin: boolean }) {
  const can = returnability(order, admin);
  if (can.left === 0) return <Text size="sm">Everything in this order was returned.</Text>;
  if (!can.until) return null;
  const until = day(can.until);
  if (admin) {
    return can.open ? (
      <Text size="sm" data-testid="return-window">
        The customer can return items until {until}.
      </Text>
    ) : (
      <Text size="sm" data-testid="return-window">
        The customer's return window has passed: it closed on {until}. As an admin you can still return items.
      </Text>
    );
  }
  return can.open ? (
    <Text size="sm" data-testid="return-window">
      You can return items until {until}.
    </Text>
  ) : (
    <Text size="sm" data-testid="return-window">
      Returns were possible until {until}; the return window has closed.
    </Text>
  );
}

export const returnStatusColor: Record<OrderReturn['status'], string> = { pending: 'blue', completed: 'teal', needs_attention: 'orange' };
const returnStatusWord: Record<OrderReturn['status'], string> = { pending: 'in progress', completed: 'completed', needs_attention: 'needs attention' };

// ReturnList: each of the order's returns, what it gave back and its saga.
export function ReturnList({ order, admin, onOrder }: { order: Order; admin: boolean; onOrder: (o: Order) => void }) {
  const returns = order.returns ?? [];
  if (returns.length === 0) return null;
  return (
    <Stack component="section" aria-labelledby="returns-heading">
      <Title order={2} size="h3" id="returns-heading">
        Returns
      </Title>
      {returns.map((r) => (
        <ReturnCard key={r.id} order={order} r={r} admin={admin} onOrder={onOrder} />
      ))}
    </Stack>
  );
}

function ReturnCard({ order, r, admin, onOrder }: { order: Order; r: OrderReturn; admin: boolean; onOrder: (o: Order) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const who = admin ? r.by : r.by === order.user_id ? 'you' : 'the store';
  const done = r.status === 'completed';
  const kept = parseMoney(r.kept_from_refund ?? 0) > 0n;

  async function retry() {
    setBusy(true);
    setError(undefined);
    try {
      onOrder((await retryOrder(order.id)).body);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Paper withBorder p="md" data-testid="return" data-return-id={r.id} data-status={r.status} aria-label={`Return ${returnNumber(r.id)}`} component="article">
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
        <Stack gap="xs">
          <Group justify="space-between">
            <Title order={3} size="h4">Return {returnNumber(r.id)}</Title>
            <Badge color={returnStatusColor[r.status]} variant="light">
              {returnStatusWord[r.status]}
            </Badge>
          </Group>
          <Text size="xs" c="dimmed">
            Asked by {who} on {when(r.created_at)}
          </Text>
          <Table aria-label={`What return ${r.id} gave back`}>
            <Table.Tbody>
              {r.lines.map((l) => {
                const bought = order.lines.find((b) => b.product_id === l.product_id);
                return (
                  <Table.Tr key={l.product_id}>
                    <Table.Td>
                      {l.quantity.toLocaleString('en-US')} × {bought?.name ?? l.product_id}
                    </Table.Td>
                    <Table.Td ta="right">{bought && `$${formatMoney(times(parseMoney(bought.unit_price), l.quantity))}`}</Table.Td>
                  </Table.Tr>
                );
              })}
              <Table.Tr>
                <Table.Td>Value of the items</Table.Td>
                <Table.Td ta="right">${money(r.value)}</Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Th>{done ? 'Refunded to the wallet' : 'To refund to the wallet'}</Table.Th>
                <Table.Th ta="right">${money(done ? (r.refunded ?? r.refund) : r.refund)}</Table.Th>
              </Table.Tr>
              {kept && (
                <Table.Tr>
                  <Table.Td>Kept from the refund for {(r.points_unrecovered ?? 0).toLocaleString('en-US')} points already spent</Table.Td>
                  <Table.Td ta="right">${money(r.kept_from_refund ?? 0)}</Table.Td>
                </Table.Tr>
              )}
              {r.points_restored > 0 && (
                <Table.Tr>
                  <Table.Td>Points paid with, given back</Table.Td>
                  <Table.Td ta="right">+{r.points_restored.toLocaleString('en-US')}</Table.Td>
                </Table.Tr>
              )}
              {r.points_reversed > 0 && (
                <Table.Tr>
                  <Table.Td>Points earned, taken back</Table.Td>
                  <Table.Td ta="right">−{r.points_reversed.toLocaleString('en-US')}</Table.Td>
                </Table.Tr>
              )}
              {!kept && (r.points_unrecovered ?? 0) > 0 && (
                <Table.Tr>
                  <Table.Td>Points earned but already spent</Table.Td>
                  <Table.Td ta="right">{(r.points_unrecovered ?? 0).toLocaleString('en-US')}</Table.Td>
                </Table.Tr>
              )}
            </Table.Tbody>
          </Table>
          {r.reason && <Text size="sm">Reason: {r.reason}</Text>}
          {r.status === 'needs_attention' && (
            <Alert color="orange" title="Needs attention">
              {admin ? r.failure_reason || r.failure_code || 'A step kept failing.' : 'Our support team has been told and will finish this return.'}
            </Alert>
          )}
          {admin && r.status === 'needs_attention' && (
            <Group>
              <Button size="xs" loading={busy} onClick={() => void retry()}>
                Run return {r.id} again
              </Button>
            </Group>
          )}
          {error !== undefined && (
            <Alert color="red" role="alert" title={error instanceof ApiError ? error.title : 'The return could not run again'}>
              {errorText(error)}
            </Alert>
          )}
        </Stack>
        <div>
          <Text size="sm" fw={500} mb="xs">
            How the return went
          </Text>
          <SagaTimeline steps={r.saga} live={r.status === 'pending'} label={`Steps of return ${r.id}`} testId="return-saga" />
          {r.attempt > 1 && (
            <Text size="xs" c="dimmed" mt="sm">
              Support ran the return again ({r.attempt} runs).
            </Text>
          )}
        </div>
      </SimpleGrid>
    </Paper>
  );
}
