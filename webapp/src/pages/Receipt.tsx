// A completed purchase's receipt (#/store/receipt/{orderId}): the order
// number, what was bought, the points used, the money charged and the
// points earned, ready to print.
import { Alert, Anchor, Button, Group, Paper, Stack, Table, Text, Title } from '@mantine/core';
import { ErrorNote, Loading } from '../components/States';
import { currentUser } from '../lib/api';
import { count, orderNumber, when } from '../lib/format';
import { formatMoney, money } from '../lib/money';
import { totalRefunded } from '../lib/returns';
import { useDocumentTitle } from '../lib/title';
import type { Order } from '../lib/types';
import { useApi } from '../lib/useApi';

// Printing shows the receipt alone: no header, menu or buttons.
const printStyle = `@media print {
  header, nav, [data-no-print] { display: none !important; }
  main { padding: 0 !important; }
  [data-testid="receipt"] { border: none !important; }
}`;

export function Receipt({ id }: { id: string }) {
  const order = useApi<Order>(`/orders/${encodeURIComponent(id)}`);
  useDocumentTitle(`Receipt ${orderNumber(id)}`);
  // An admin came from the back office's view of the order.
  const back = currentUser()?.role === 'admin' ? `#/admin/orders/${encodeURIComponent(id)}` : `#/orders/${encodeURIComponent(id)}`;
  return (
    <Stack maw={640} mx="auto">
      <style>{printStyle}</style>
      <Group justify="space-between" data-no-print>
        <Anchor href={back}>← Back to the order</Anchor>
        {order.data?.status === 'completed' && (
          <Button variant="light" onClick={() => window.print()}>
            Print
          </Button>
        )}
      </Group>
      <Title order={1} size="h2">Receipt {orderNumber(id)}</Title>
      {order.data ? (
        order.data.status === 'completed' ? (
          <ReceiptBody o={order.data} />
        ) : (
          <Alert color="blue" role="status">
            A receipt is made once the purchase completes; this one {order.data.status === 'pending' ? 'is still in progress' : 'did not go through'}.{' '}
            <Anchor href={back}>See the order</Anchor>.
          </Alert>
        )
      ) : order.error !== undefined ? (
        <ErrorNote error={order.error} onRetry={order.reload} />
      ) : (
        <Loading />
      )}
    </Stack>
  );
}

function ReceiptBody({ o }: { o: Order }) {
  const refunded = totalRefunded(o);
  return (
    <Paper withBorder p="lg" data-testid="receipt">
      <Stack gap="md">
        <Group justify="space-between" align="flex-start">
          <div>
            <Text fw={700} c="grape">Unicorn Store</Text>
            <Text size="sm">Sold to {o.user_id}</Text>
          </div>
          <div style={{ textAlign: 'right' }}>
            <Text size="sm">Order {orderNumber(o.id)}</Text>
            <Text size="sm">{when(o.completed_at ?? o.created_at)}</Text>
          </div>
        </Group>
        <Table aria-label="Receipt lines">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Item</Table.Th>
              <Table.Th ta="right">Quantity</Table.Th>
              <Table.Th ta="right">Price</Table.Th>
              <Table.Th ta="right">Amount</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {o.lines.map((l) => (
              <Table.Tr key={l.product_id}>
                <Table.Td>{l.name}</Table.Td>
                <Table.Td ta="right">{count(l.quantity)}</Table.Td>
                <Table.Td ta="right">${money(l.unit_price)}</Table.Td>
                <Table.Td ta="right">${money(l.amount)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        <Table aria-label="Receipt totals" data-testid="receipt-totals">
          <Table.Tbody>
            <Table.Tr>
              <Table.Th scope="row">Total</Table.Th>
              <Table.Td ta="right">${money(o.total)}</Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th scope="row">Points used</Table.Th>
              <Table.Td ta="right">{o.points_redeemed > 0 ? `${count(o.points_redeemed)} points, −$${money(o.points_value)}` : 'none'}</Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th scope="row">Charged to the wallet</Table.Th>
              <Table.Td ta="right" fw={700}>${money(o.charged)}</Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th scope="row">Points earned</Table.Th>
              <Table.Td ta="right">{count(o.points_awarded)}</Table.Td>
            </Table.Tr>
            {refunded > 0n && (
              <Table.Tr>
                <Table.Th scope="row">Refunded by returns since</Table.Th>
                <Table.Td ta="right">−${formatMoney(refunded)}</Table.Td>
              </Table.Tr>
            )}
          </Table.Tbody>
        </Table>
      </Stack>
    </Paper>
  );
}
