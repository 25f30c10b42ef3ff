// The checkout dialog's two views: the review of what will be charged
// before paying, and the purchase's steps as they run, with its outcome.
import { Alert, Button, Divider, Group, Stack, Table, Text } from '@mantine/core';
import { SagaTimeline } from '../components/SagaTimeline';
import { ErrorNote } from '../components/States';
import { lineAmount, type Cart, type Checkout } from '../lib/cart';
import { count, orderNumber } from '../lib/format';
import { formatMoney, type Money, money } from '../lib/money';
import { outcome, toneColor } from '../lib/saga';
import type { Order } from '../lib/types';

export type Follow = 'following' | 'done' | 'lost' | 'slow';

// ReviewStep shows exactly what the purchase will take: each line, the
// points and what they are worth, the money from the wallet and what the
// wallet keeps.
export function ReviewStep({ cart, sums, wallet, pointValue, busy, error, onConfirm, onBack }: {
  cart: Cart; sums: Checkout; wallet?: Money; pointValue: Money; busy: boolean; error: unknown; onConfirm: () => void; onBack: () => void;
}) {
  const lines = cart.filter((l) => !l.gone);
  return (
    <Stack data-testid="checkout-review">
      <Table aria-label="What you are buying">
        <Table.Tbody>
          {lines.map((l) => (
            <Table.Tr key={l.productId}>
              <Table.Td>{count(l.quantity)} × {l.name}</Table.Td>
              <Table.Td ta="right">${formatMoney(lineAmount(l))}</Table.Td>
            </Table.Tr>
          ))}
          <Table.Tr>
            <Table.Th scope="row">Total</Table.Th>
            <Table.Td ta="right" fw={600}>${formatMoney(sums.total)}</Table.Td>
          </Table.Tr>
          {sums.points > 0 && (
            <Table.Tr>
              <Table.Td>
                {count(sums.points)} points used (1 point = ${formatMoney(pointValue)})
              </Table.Td>
              <Table.Td ta="right" data-testid="review-points-value">−${formatMoney(sums.savings)}</Table.Td>
            </Table.Tr>
          )}
          <Table.Tr>
            <Table.Th scope="row">Charged to your wallet</Table.Th>
            <Table.Td ta="right" fw={700} data-testid="review-charge">${formatMoney(sums.toPay)}</Table.Td>
          </Table.Tr>
        </Table.Tbody>
      </Table>
      <Text size="sm" data-testid="review-summary">
        {sums.points > 0
          ? `You pay $${formatMoney(sums.toPay)} from your wallet and ${count(sums.points)} points worth $${formatMoney(sums.savings)}.`
          : `You pay $${formatMoney(sums.toPay)} from your wallet; no points are used.`}
        {wallet !== undefined && ` Your wallet keeps $${formatMoney(wallet - sums.toPay)}.`}
      </Text>
      {error !== undefined && <ErrorNote error={error} title="The purchase could not start" />}
      <Divider />
      <Group justify="flex-end">
        <Button variant="default" onClick={onBack} disabled={busy}>
          Back
        </Button>
        <Button onClick={onConfirm} loading={busy} data-autofocus>
          Confirm and pay ${formatMoney(sums.toPay)}
        </Button>
      </Group>
    </Stack>
  );
}

// FollowStep: the saga as it runs, then what happened, with the way to the
// order and, for a completed one, its receipt.
export function FollowStep({ order, follow, busy, onLeave, onClose }: { order: Order; follow: Follow; busy: boolean; onLeave: () => void; onClose: () => void }) {
  const result = outcome(order);
  const completed = order.status === 'completed';
  return (
    <Stack>
      <Text size="sm" c="dimmed">Order {orderNumber(order.id)}</Text>
      <SagaTimeline steps={order.saga} live={order.status === 'pending'} />
      {follow === 'lost' || follow === 'slow' ? (
        <Alert color="blue" title="Your order is still being processed" role="status" data-testid="purchase-outcome" data-tone="pending">
          {follow === 'lost'
            ? 'We lost touch with the store while following it. Nothing is lost: the order page shows where it is.'
            : 'It is taking longer than usual. The order page shows where it is; you can keep shopping.'}
        </Alert>
      ) : (
        <Alert color={toneColor[result.tone]} title={result.title} role="status" data-testid="purchase-outcome" data-tone={result.tone}>
          {result.text}
        </Alert>
      )}
      <Group justify="flex-end">
        {completed && (
          <Button variant="default" component="a" href={`#/store/receipt/${encodeURIComponent(order.id)}`} onClick={onLeave}>
            Receipt
          </Button>
        )}
        <Button variant="default" component="a" href={`#/orders/${encodeURIComponent(order.id)}`} onClick={onLeave}>
          See the order
        </Button>
        {!busy && <Button onClick={onClose}>{result.tone === 'success' ? 'Keep shopping' : 'Back to the cart'}</Button>}
      </Group>
    </Stack>
  );
}

// repricedWords is the price-changed note: today's total, and that nothing was charged.
export const repricedWords = (total: string | number) =>
  `Prices changed since you added these unicorns: the order now costs $${money(total)}. Nothing was charged; check the cart and buy again.`;
