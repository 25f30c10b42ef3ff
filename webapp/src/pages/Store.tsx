// The store: products, a cart, points to pay with, and a checkout that
// shows the purchase saga as it runs.
import {
  ActionIcon, Affix, Alert, Badge, Button, Card, Divider, Grid, Group, Image, Modal, NumberInput, Paper, SimpleGrid, Stack, Switch, Text, TextInput, Title,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useEffect, useRef, useState } from 'react';
import { SagaTimeline } from '../components/SagaTimeline';
import { Empty, ErrorNote, Section } from '../components/States';
import { ApiError, get, newKey, send, type User } from '../lib/api';
import { useAccount } from '../lib/account';
import { cartCount, cartTotal, checkout, lineAmount, maxPoints, shortOfStock, type CartLine } from '../lib/cart';
import { useCart } from '../lib/cartStore';
import { formatMoney, money, moneyNumber, parseMoney } from '../lib/money';
import { pendingWords } from '../lib/points';
import { outcome, toneColor } from '../lib/saga';
import type { Order, PriceChanged, Product } from '../lib/types';
import { useApi } from '../lib/useApi';

export function Store({ user }: { user: User; rest?: string[] }) {
  const [q, setQ] = useState('');
  const [query] = useDebouncedValue(q.trim(), 250);
  const products = useApi<Product[]>(`/products${query ? `?q=${encodeURIComponent(query)}` : ''}`);
  const { cart, dispatch } = useCart();
  const canBuy = user.role === 'customer';

  return (
    <Grid gap="lg">
      <Grid.Col span={{ base: 12, md: canBuy ? 8 : 12 }}>
        <Stack>
          <Group justify="space-between" align="flex-end">
            <Title order={1} size="h2">Unicorns</Title>
            <TextInput
              label="Search unicorns"
              placeholder="rainbow, golden…"
              type="search"
              value={q}
              onChange={(e) => setQ(e.currentTarget.value)}
              w={{ base: '100%', xs: 280 }}
            />
          </Group>
          <Section load={products} isEmpty={(p) => p.length === 0} empty={query ? `No unicorn matches “${query}”.` : 'The store has no unicorns yet.'}>
            {(items) => (
              <SimpleGrid cols={{ base: 1, xs: 2, lg: 3 }} aria-label="Products" data-testid="products">
                {items.map((p) => (
                  <ProductCard key={p.id} p={p} canBuy={canBuy} inCart={cart.find((l) => l.productId === p.id)?.quantity ?? 0}
                    onAdd={() => dispatch({ type: 'add', product: p })} />
                ))}
              </SimpleGrid>
            )}
          </Section>
        </Stack>
      </Grid.Col>
      {canBuy && (
        <Grid.Col span={{ base: 12, md: 4 }} id="cart">
          <CartPanel user={user} onBought={products.reload} />
        </Grid.Col>
      )}
      {canBuy && cart.length > 0 && (
        // On a phone the cart is below the products: this takes the customer there.
        <Affix position={{ bottom: 16, right: 16 }} hiddenFrom="md">
          <Button size="md" radius="xl" onClick={() => document.getElementById('cart')?.scrollIntoView({ behavior: 'smooth' })}>
            Cart ({cartCount(cart)}) · ${formatMoney(cartTotal(cart))}
          </Button>
        </Affix>
      )}
    </Grid>
  );
}

function ProductCard({ p, canBuy, inCart, onAdd }: { p: Product; canBuy: boolean; inCart: number; onAdd: () => void }) {
  const soldOut = p.stock <= 0;
  return (
    <Card withBorder padding="md" component="article" aria-label={p.name} data-testid="product">
      <Card.Section>
        <Image src={p.image || undefined} alt={p.name} h={160} fit="contain" bg="grape.0" fallbackSrc="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 4 3'/%3E" />
      </Card.Section>
      <Stack gap={4} mt="sm">
        <Group justify="space-between" wrap="nowrap">
          <Text fw={600}>{p.name}</Text>
          <Text fw={700} c="grape">${money(p.price)}</Text>
        </Group>
        {p.description && <Text size="sm" c="dimmed" lineClamp={2}>{p.description}</Text>}
        <Group justify="space-between" mt="xs">
          <Badge color={soldOut ? 'red' : p.stock < 5 ? 'orange' : 'teal'} variant="light">
            {soldOut ? 'Sold out' : `${p.stock} in stock`}
          </Badge>
          {canBuy && (
            <Button size="xs" onClick={onAdd} disabled={soldOut} aria-label={`Add ${p.name} to cart`}>
              {inCart > 0 ? `Add another (${inCart})` : 'Add to cart'}
            </Button>
          )}
        </Group>
      </Stack>
    </Card>
  );
}

// How long checkout follows a saga before it hands over to the order page.
const followFor = 60_000;

// QuantityInput lets the field be empty while the customer types a new
// number; the line changes only for a whole number of at least 1.
function QuantityInput({ line, onSet }: { line: CartLine; onSet: (q: number) => void }) {
  const [text, setText] = useState<string | number>(line.quantity);
  useEffect(() => setText(line.quantity), [line.quantity]);
  return (
    <NumberInput
      aria-label={`Quantity of ${line.name}`}
      value={text}
      min={1}
      max={1000}
      allowDecimal={false}
      allowNegative={false}
      w={80}
      size="xs"
      onChange={(v) => {
        setText(v);
        if (typeof v === 'number' && v >= 1) onSet(v);
      }}
      onBlur={() => setText(line.quantity)}
    />
  );
}

type Follow = 'following' | 'done' | 'lost' | 'slow';

function CartPanel({ user, onBought }: { user: User; onBought: () => void }) {
  const { cart, dispatch } = useCart();
  const { points, settings, refresh } = useAccount();
  const [usePoints, setUsePoints] = useState(false);
  const [wanted, setWanted] = useState<number>(0);
  const [order, setOrder] = useState<Order>();
  const [follow, setFollow] = useState<Follow>('done');
  const [error, setError] = useState<unknown>();
  const [repricedNote, setRepriced] = useState<string>();
  const [busy, setBusy] = useState(false);
  // One idempotency key per purchase request: a retry of the same request
  // after a network error reuses it (and cannot buy twice); another cart or
  // another number of points is another purchase.
  const key = useRef<{ body: string; key: string }>(undefined);
  // Following stops when the customer closes the dialog or leaves the page.
  const following = useRef(false);
  useEffect(() => () => void (following.current = false), []);

  const pointValue = settings ? parseMoney(settings.point_value) : 0n;
  const balance = points?.balance ?? 0;
  const pending = points?.pending ?? 0;
  const sums = checkout(cart, balance, pointValue, usePoints ? wanted : 0);
  const most = maxPoints(balance, sums.total, pointValue);
  const short = shortOfStock(cart);

  async function buy() {
    setBusy(true);
    setError(undefined);
    setOrder(undefined);
    // The total the customer sees goes with the order: if an admin changed
    // a price meanwhile, the store refuses rather than charge another sum.
    const body = {
      user_id: user.username,
      items: cart.map((l) => ({ product_id: l.productId, quantity: l.quantity })),
      redeem_points: sums.points,
      expected_total: moneyNumber(sums.total),
    };
    const text = JSON.stringify(body);
    if (key.current?.body !== text) key.current = { body: text, key: newKey() };
    let o: Order;
    try {
      o = (await send<Order>('POST', '/purchase', body, { headers: { 'Idempotency-Key': key.current.key, Prefer: 'respond-async' } })).body;
    } catch (e) {
      if (e instanceof ApiError && e.status === 409 && e.problem.type === 'urn:unicorn:problem:price-changed') {
        // Show today's prices in the cart; the customer decides again.
        const changed = e.problem as unknown as PriceChanged;
        dispatch({ type: 'reprice', lines: changed.lines });
        setRepriced(`Prices changed since you added these unicorns: the order now costs $${money(changed.total)}. Nothing was charged; check the cart and buy again.`);
      } else {
        setError(e);
      }
      setBusy(false);
      return;
    }
    setRepriced(undefined);
    key.current = undefined;
    following.current = true;
    setOrder(o);
    setFollow('following');
    const until = Date.now() + followFor;
    try {
      for (let wait = 150; o.status === 'pending' && following.current && Date.now() < until; wait = Math.min(wait * 1.5, 1000)) {
        await new Promise((r) => setTimeout(r, wait));
        o = await get<Order>(`/orders/${encodeURIComponent(o.id)}`);
        if (following.current) setOrder(o);
      }
      setFollow(o.status === 'pending' ? 'slow' : 'done');
    } catch {
      setFollow('lost');
    }
    if (o.status === 'completed') {
      dispatch({ type: 'clear' });
      setUsePoints(false);
      setWanted(0);
    }
    setBusy(false);
    onBought();
    await refresh();
  }

  function close() {
    following.current = false;
    setOrder(undefined);
  }

  const result = order && outcome(order);
  return (
    <Paper withBorder p="md" pos="sticky" top={80} component="section" aria-label="Cart">
      <Stack>
        <Title order={2} size="h3">Cart {cart.length > 0 && <Text span c="dimmed">({cartCount(cart)})</Text>}</Title>
        {cart.length === 0 ? (
          <Empty>Your cart is empty. Add a unicorn to start.</Empty>
        ) : (
          <Stack gap="xs">
            {cart.map((l) => (
              <Group key={l.productId} justify="space-between" wrap="nowrap" data-testid="cart-line">
                <div style={{ minWidth: 0 }}>
                  <Text size="sm" fw={500} truncate>{l.name}</Text>
                  <Text size="xs" c="dimmed">${money(l.price)} each · ${formatMoney(lineAmount(l))}</Text>
                </div>
                <Group gap={4} wrap="nowrap">
                  <QuantityInput line={l} onSet={(quantity) => dispatch({ type: 'set', productId: l.productId, quantity })} />
                  <ActionIcon variant="subtle" color="red" aria-label={`Remove ${l.name}`} onClick={() => dispatch({ type: 'remove', productId: l.productId })}>
                    ✕
                  </ActionIcon>
                </Group>
              </Group>
            ))}
            {short.length > 0 && (
              <Alert color="orange" p="xs">
                {short.map((l) => `Only ${l.stock} ${l.name} left`).join('; ')}: the order may not go through.
              </Alert>
            )}
            <Divider />
            <Group justify="space-between">
              <Text>Total</Text>
              <Text fw={600} data-testid="cart-total">${formatMoney(sums.total)}</Text>
            </Group>
            <Switch
              label={`Use my points (${balance.toLocaleString('en-US')} available)`}
              description={!settings ? 'Paying with points is unavailable right now.' : pending > 0 ? `${pendingWords(pending, [])}: points become spendable when the return window of the purchase that earned them ends.` : undefined}
              checked={usePoints && most > 0}
              disabled={most === 0}
              onChange={(e) => {
                setUsePoints(e.currentTarget.checked);
                setWanted(most);
              }}
            />
            {usePoints && most > 0 && settings && (
              <Group align="flex-end" gap="xs">
                <NumberInput
                  label="Points to use"
                  description={`At most ${most.toLocaleString('en-US')} · 1 point = $${money(settings.point_value)}`}
                  value={sums.points}
                  min={0}
                  max={most}
                  allowDecimal={false}
                  allowNegative={false}
                  clampBehavior="strict"
                  onChange={(v) => setWanted(Number(v) || 0)}
                  style={{ flex: 1 }}
                />
                <Button variant="light" onClick={() => setWanted(most)}>
                  Max
                </Button>
              </Group>
            )}
            {sums.points > 0 && (
              <Group justify="space-between">
                <Text c="teal">Points save you</Text>
                <Text c="teal" data-testid="points-savings">−${formatMoney(sums.savings)}</Text>
              </Group>
            )}
            <Group justify="space-between">
              <Text fw={700}>To pay from your wallet</Text>
              <Text fw={700} data-testid="to-pay">${formatMoney(sums.toPay)}</Text>
            </Group>
            <Button onClick={buy} loading={busy} size="md">
              Buy now
            </Button>
          </Stack>
        )}
        {error !== undefined && <ErrorNote error={error} title="The purchase could not start" onRetry={cart.length > 0 ? () => void buy() : undefined} />}
        {repricedNote && (
          <Alert color="orange" title="Prices changed" role="alert" data-testid="prices-changed">
            {repricedNote}
          </Alert>
        )}
      </Stack>
      <Modal opened={order !== undefined} onClose={close} title="Your purchase" centered closeButtonProps={{ 'aria-label': 'Close' }}>
        {order && result && (
          <Stack>
            <SagaTimeline steps={order.saga} live={order.status === 'pending'} />
            {follow === 'lost' || follow === 'slow' ? (
              <Alert color="blue" title="Your order is still being processed" role="status" data-testid="purchase-outcome" data-tone="pending">
                {follow === 'lost'
                  ? 'We lost touch with the store while following it. Nothing is lost: the order page shows where it is.'
                  : 'It is taking longer than usual. The order page shows where it is; you can keep shopping.'}
              </Alert>
            ) : (
              <Alert
                color={toneColor[result.tone]}
                title={result.title}
                role="status"
                data-testid="purchase-outcome"
                data-tone={result.tone}
              >
                {result.text}
              </Alert>
            )}
            <Group justify="flex-end">
              <Button variant="default" component="a" href={`#/orders/${order.id}`} onClick={() => (following.current = false)}>
                See the order
              </Button>
              {!busy && <Button onClick={close}>{result.tone === 'success' ? 'Keep shopping' : 'Back to the cart'}</Button>}
            </Group>
          </Stack>
        )}
      </Modal>
    </Paper>
  );
}
