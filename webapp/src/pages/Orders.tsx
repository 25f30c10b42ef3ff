// A customer's orders and, for one order, its saga and why it earned what it earned.
import { Alert, Anchor, Badge, Button, Grid, Group, Paper, Stack, Table, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { Breakdown } from '../components/Breakdown';
import { SagaTimeline } from '../components/SagaTimeline';
import { Empty, ErrorNote, Loading, Section } from '../components/States';
import { get, type User } from '../lib/api';
import { count, orderNumber, when } from '../lib/format';
import { formatMoney, money } from '../lib/money';
import { pointsTakenBack, totalRefunded, unitsBought, unitsReturned } from '../lib/returns';
import { outcome, staffOutcome, toneColor } from '../lib/saga';
import { useDocumentTitle } from '../lib/title';
import { ReturnList, ReturnPanel } from './OrderReturns';
import type { Order, OrderPage } from '../lib/types';
import { useApi } from '../lib/useApi';

export const statusColor: Record<Order['status'], string> = { pending: 'blue', completed: 'teal', failed: 'red', needs_attention: 'orange' };
export const statusWord: Record<Order['status'], string> = { pending: 'in progress', completed: 'completed', failed: 'failed', needs_attention: 'needs attention' };

export function StatusBadge({ status }: { status: Order['status'] }) {
  return <Badge color={statusColor[status]} variant="light">{statusWord[status]}</Badge>;
}


// ReturnedBadge says when some or all of an order went back.
export function ReturnedBadge({ order }: { order: Order }) {
  const returned = unitsReturned(order);
  if (returned === 0) return null;
  const all = returned >= unitsBought(order);
  return <Badge color="gray" variant="light" data-testid="order-returned">{all ? 'returned' : 'partly returned'}</Badge>;
}

export function Orders({ user, orderId }: { user: User; orderId?: string }) {
  return orderId ? <OrderDetail id={orderId} /> : <OrderList user={user} />;
}


function OrderList({ user }: { user: User }) {
  useDocumentTitle('My orders');
  const [orders, setOrders] = useState<Order[]>();
  const [next, setNext] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(false);
  const base = `/orders?user_id=${encodeURIComponent(user.username)}&limit=20`;

  async function load(cursor?: string) {
    setLoading(true);
    try {
      const page = await get<OrderPage>(cursor ? `${base}&cursor=${encodeURIComponent(cursor)}` : base);
      setOrders((prev) => (cursor ? [...(prev ?? []), ...page.items] : page.items));
      setNext(page.next_cursor);
      setError(undefined);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  }
  useEffect(() => {
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [base]);

  return (
    <Stack>
      <Title order={1} size="h2">My orders</Title>
      {error !== undefined && <ErrorNote error={error} onRetry={() => void load()} />}
      {orders === undefined && error === undefined && <Loading />}
      {orders?.length === 0 && <Empty>No orders yet. <Anchor href="#/store">Find a unicorn</Anchor>.</Empty>}
      {orders && orders.length > 0 && (
        <Table.ScrollContainer minWidth={640} tabIndex={0} aria-label="Orders, scrollable">
          <Table highlightOnHover aria-label="Orders">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Order</Table.Th>
                <Table.Th>Date</Table.Th>
                <Table.Th>Items</Table.Th>
                <Table.Th ta="right">Total</Table.Th>
                <Table.Th ta="right">Points</Table.Th>
                <Table.Th>Status</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {orders.map((o) => (
                <Table.Tr key={o.id}>
                  <Table.Td>
                    <Anchor href={`#/orders/${encodeURIComponent(o.id)}`} style={{ whiteSpace: 'nowrap' }}>
                      {orderNumber(o.id)}
                    </Anchor>
                  </Table.Td>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>{when(o.created_at)}</Table.Td>
                  <Table.Td>{o.lines.map((l) => `${count(l.quantity)} × ${l.name}`).join(', ')}</Table.Td>
                  <Table.Td ta="right">${money(o.total)}</Table.Td>
                  <Table.Td ta="right">
                    {o.points_awarded > 0 && <Text span c="teal">+{count(o.points_awarded)}</Text>}
                    {o.points_redeemed > 0 && <Text span c="grape"> −{count(o.points_redeemed)}</Text>}
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      <StatusBadge status={o.status} />
                      <ReturnedBadge order={o} />
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {next && (
        <Group justify="center">
          <Button variant="light" loading={loading} onClick={() => void load(next)}>
            Older orders
          </Button>
        </Group>
      )}
    </Stack>
  );
}

// OrderDetail is one order for its customer, or for an admin (who may
// return it after the customer's return window). The admin reads it as
// someone else's order: whose it is, what they bought, in the third person.
export function OrderDetail({ id, back = '#/orders', admin = false }: { id: string; back?: string; admin?: boolean }) {
  const order = useApi<Order>(`/orders/${encodeURIComponent(id)}`);
  useDocumentTitle(`Order ${orderNumber(id)}`);
  // Follow the purchase's saga, or a return's, until it ends.
  const pending = order.data?.status === 'pending' || (order.data?.returns ?? []).some((r) => r.status === 'pending');
  useEffect(() => {
    if (!pending) return;
    const t = setTimeout(order.reload, 1000);
    return () => clearTimeout(t);
  }, [pending, order.data, order.reload]);
  return (
    <Stack>
      <Anchor href={back}>← Back</Anchor>
      <Section load={order}>
        {(o) => {
          const result = admin ? staffOutcome(o) : outcome(o);
          const whose = admin ? `${o.user_id}'s wallet` : 'your wallet';
          return (
            <Stack>
              <Group justify="space-between">
                <div>
                  <Title order={1} size="h2">Order {orderNumber(o.id)}</Title>
                  <Text size="sm" c="dimmed">
                    {admin && (
                      <>
                        Customer: <Text span fw={600} c="dark" data-testid="order-customer">{o.user_id}</Text> ·{' '}
                      </>
                    )}
                    Placed {when(o.created_at)}
                  </Text>
                </div>
                <Group gap="xs">
                  <StatusBadge status={o.status} />
                  <ReturnedBadge order={o} />
                  {o.status === 'completed' && (
                    <Button size="xs" variant="light" component="a" href={`#/store/receipt/${encodeURIComponent(o.id)}`}>
                      Receipt
                    </Button>
                  )}
                </Group>
              </Group>
              <Alert color={toneColor[result.tone]} title={result.title} data-testid="order-outcome">
                {result.text}
              </Alert>
              <Grid>
                <Grid.Col span={{ base: 12, md: 7 }}>
                  <Paper withBorder p="md">
                    <Title order={2} size="h4" mb="sm">{admin ? `${o.user_id} bought` : 'What you bought'}</Title>
                    <Table aria-label="Order lines">
                      <Table.Tbody>
                        {o.lines.map((l) => (
                          <Table.Tr key={l.product_id} data-testid="order-line">
                            <Table.Td>
                              {count(l.quantity)} × {l.name}
                              {(l.returned ?? 0) > 0 && (
                                <Badge ml="xs" size="sm" variant="light" color="gray" data-testid="line-returned">
                                  {l.returned === l.quantity ? 'all returned' : `${count(l.returned ?? 0)} returned`}
                                </Badge>
                              )}
                            </Table.Td>
                            <Table.Td ta="right">${money(l.amount)}</Table.Td>
                          </Table.Tr>
                        ))}
                        <Table.Tr>
                          <Table.Th>Total</Table.Th>
                          <Table.Th ta="right">${money(o.total)}</Table.Th>
                        </Table.Tr>
                        {o.status === 'completed' ? (
                          <>
                            {o.points_redeemed > 0 && (
                              <Table.Tr>
                                <Table.Td>Paid with {count(o.points_redeemed)} points</Table.Td>
                                <Table.Td ta="right">−${money(o.points_value)}</Table.Td>
                              </Table.Tr>
                            )}
                            <Table.Tr>
                              <Table.Th>Charged to {whose}</Table.Th>
                              <Table.Th ta="right">${money(o.charged)}</Table.Th>
                            </Table.Tr>
                            {totalRefunded(o) > 0n && (
                              <Table.Tr>
                                <Table.Td>Refunded by returns</Table.Td>
                                <Table.Td ta="right" data-testid="order-refunded">−${formatMoney(totalRefunded(o))}</Table.Td>
                              </Table.Tr>
                            )}
                          </>
                        ) : o.status === 'pending' ? (
                          <>
                            {o.points_requested > 0 && (
                              <Table.Tr>
                                <Table.Td>To pay with {count(o.points_requested)} points</Table.Td>
                                <Table.Td ta="right">−${money(o.points_value)}</Table.Td>
                              </Table.Tr>
                            )}
                            <Table.Tr>
                              <Table.Th>To be charged</Table.Th>
                              <Table.Th ta="right">${money(o.amount_due)}</Table.Th>
                            </Table.Tr>
                          </>
                        ) : (
                          <Table.Tr>
                            <Table.Th>Charged to {whose}</Table.Th>
                            <Table.Th ta="right">nothing</Table.Th>
                          </Table.Tr>
                        )}
                      </Table.Tbody>
                    </Table>
                  </Paper>
                  {o.status === 'completed' && <ReturnPanel order={o} admin={admin} onOrder={order.set} reload={order.reload} />}
                  {o.status === 'completed' && (
                    <Paper withBorder p="md" mt="md">
                      <Title order={2} size="h4" mb="sm">
                        Why {count(o.points_awarded)} points?
                      </Title>
                      <Breakdown lines={o.award} total={o.points_awarded} />
                      {pointsTakenBack(o) > 0 && (
                        <Text size="sm" c="dimmed" mt="sm" data-testid="points-taken-back">
                          Returns took back {count(pointsTakenBack(o))} of these points.
                        </Text>
                      )}
                    </Paper>
                  )}
                </Grid.Col>
                <Grid.Col span={{ base: 12, md: 5 }}>
                  <Paper withBorder p="md">
                    <Title order={2} size="h4" mb="sm">How the purchase went</Title>
                    <SagaTimeline steps={o.saga} live={o.status === 'pending'} />
                    {o.attempt > 1 && <Text size="xs" c="dimmed" mt="sm">Support ran the order again ({o.attempt} runs).</Text>}
                  </Paper>
                </Grid.Col>
              </Grid>
              <ReturnList order={o} admin={admin} onOrder={order.set} />
            </Stack>
          );
        }}
      </Section>
    </Stack>
  );
}
