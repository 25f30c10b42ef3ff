// The cart beside the products: its lines, points to pay with, why it
// cannot be bought now (if so), and the checkout: a review of what will be
// charged, then the purchase's steps as they run.
import { ActionIcon, Alert, Anchor, Badge, Button, Divider, Group, List, Modal, NumberInput, Paper, Stack, Switch, Text, Title } from '@mantine/core';
import { type Ref, useEffect, useRef, useState } from 'react';
import { Empty, ErrorNote } from '../components/States';
import { ApiError, get, newKey, send, type User } from '../lib/api';
import { useAccount } from '../lib/account';
import { cartCount, checkout, lineAmount, maxPoints, priceChanges, synced, type CartLine } from '../lib/cart';
import { useCart } from '../lib/cartStore';
import { blockers } from '../lib/catalog';
import { count, orderNumber } from '../lib/format';
import { formatMoney, money, moneyNumber, parseMoney } from '../lib/money';
import { pendingWords } from '../lib/points';
import { outcome } from '../lib/saga';
import type { Order, PriceChanged, Product, Wallet } from '../lib/types';
import type { Loaded } from '../lib/useApi';
import { FollowStep, repricedWords, ReviewStep, type Follow } from './CheckoutSteps';

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
      disabled={line.gone}
      onChange={(v) => {
        setText(v);
        if (typeof v === 'number' && v >= 1) onSet(v);
      }}
      onBlur={() => setText(line.quantity)}
    />
  );
}

type Stage = 'cart' | 'review' | 'following';

// goneIds are the products a refused purchase named as not existing
// (items[i].product_id: the i-th line sent).
function goneIds(err: unknown, sent: string[]): string[] {
  if (!(err instanceof ApiError) || err.status !== 400) return [];
  return err.errors.flatMap((e) => {
    const m = /^items\[(\d+)\]\.product_id$/.exec(e.field);
    const id = m ? sent[Number(m[1])] : undefined;
    return id ? [id] : [];
  });
}

export function CartPanel({ user, catalog }: { user: User; catalog: Loaded<Product[]> }) {
  const { cart, dispatch } = useCart();
  const { points, settings, wallet, refresh } = useAccount();
  const [usePoints, setUsePoints] = useState(false);
  const [wanted, setWanted] = useState<number>(0);
  const [stage, setStage] = useState<Stage>('cart');
  const [order, setOrder] = useState<Order>();
  const [placed, setPlaced] = useState<Order>();
  const [follow, setFollow] = useState<Follow>('done');
  const [error, setError] = useState<unknown>();
  const [checkError, setCheckError] = useState<unknown>();
  const [repricedNote, setRepriced] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [checking, setChecking] = useState(false);
  // One idempotency key per purchase request: a retry of the same request
  // after a network error reuses it (and cannot buy twice); another cart or
  // another number of points is another purchase.
  const key = useRef<{ body: string; key: string }>(undefined);
  // Following stops when the customer closes the dialog or leaves the page.
  const following = useRef(false);
  useEffect(() => () => void (following.current = false), []);
  // Where the focus goes once the dialog is gone: the confirmation of a
  // completed purchase, or the cart.
  const placedRef = useRef<HTMLDivElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const buyRef = useRef<HTMLButtonElement>(null);

  const pointValue = settings ? parseMoney(settings.point_value) : 0n;
  const balance = points?.balance ?? 0;
  const pending = points?.pending ?? 0;
  const sums = checkout(cart, balance, pointValue, usePoints ? wanted : 0);
  const most = maxPoints(balance, sums.total, pointValue);
  const walletBalance = wallet ? parseMoney(wallet.balance) : undefined;
  const blocked = blockers(cart, sums.toPay, walletBalance, most > sums.points);
  const buyable = cart.some((l) => !l.gone);
  // The dialog keeps its title while it closes.
  const lastTitle = useRef('Review your order');
  if (stage !== 'cart') lastTitle.current = stage === 'review' ? 'Review your order' : 'Your purchase';
  const title = lastTitle.current;

  // review looks at the store again (the catalog, the wallet) before it
  // shows what will be charged: a product deleted, a price or a stock
  // changed, or a wallet spent meanwhile shows in the cart instead.
  async function review() {
    setChecking(true);
    setPlaced(undefined);
    setCheckError(undefined);
    setRepriced(undefined);
    try {
      // The wallet is checked when it can be read; if not, the store judges.
      const [fresh, w] = await Promise.all([
        get<Product[]>('/products'),
        get<Wallet>(`/users/${encodeURIComponent(user.username)}/wallet`).catch(() => undefined),
      ]);
      catalog.set(fresh);
      void refresh();
      const next = synced(cart, fresh);
      dispatch({ type: 'sync', products: fresh });
      const changes = priceChanges(next, fresh);
      if (changes.length > 0) {
        dispatch({ type: 'reprice', lines: changes });
        const repriced = next.map((l) => ({ ...l, price: changes.find((c) => c.product_id === l.productId)?.unit_price ?? l.price }));
        setRepriced(repricedWords(moneyNumber(checkout(repriced, 0, 0n, 0).total)));
        return;
      }
      const now = checkout(next, balance, pointValue, usePoints ? wanted : 0);
      if (blockers(next, now.toPay, w ? parseMoney(w.balance) : undefined, false).length > 0) return;
      setError(undefined);
      setStage('review');
    } catch (e) {
      setCheckError(e);
    } finally {
      setChecking(false);
    }
  }

  async function buy() {
    setBusy(true);
    setError(undefined);
    setOrder(undefined);
    const lines = cart.filter((l) => !l.gone);
    // The total the customer sees goes with the order: if an admin changed
    // a price meanwhile, the store refuses rather than charge another sum.
    const body = {
      user_id: user.username,
      items: lines.map((l) => ({ product_id: l.productId, quantity: l.quantity })),
      redeem_points: sums.points,
      expected_total: moneyNumber(sums.total),
    };
    const text = JSON.stringify(body);
    if (key.current?.body !== text) key.current = { body: text, key: newKey() };
    let o: Order;
    try {
      o = (await send<Order>('POST', '/purchase', body, { headers: { 'Idempotency-Key': key.current.key, Prefer: 'respond-async' } })).body;
    } catch (e) {
      const gone = goneIds(e, lines.map((l) => l.productId));
      if (e instanceof ApiError && e.status === 409 && e.problem.type === 'urn:unicorn:problem:price-changed') {
        // Show today's prices in the cart; the customer decides again.
        const changed = e.problem as unknown as PriceChanged;
        dispatch({ type: 'reprice', lines: changed.lines });
        setRepriced(repricedWords(changed.total));
        setStage('cart');
      } else if (gone.length > 0) {
        // A product went between the review and the purchase: the cart
        // marks it and the list forgets it.
        dispatch({ type: 'gone', productIds: gone });
        catalog.reload();
        setStage('cart');
      } else {
        setError(e);
      }
      setBusy(false);
      return;
    }
    key.current = undefined;
    following.current = true;
    setOrder(o);
    setStage('following');
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
      setPlaced(o);
    }
    setBusy(false);
    catalog.reload();
    await refresh();
  }

  function close() {
    if (stage === 'review' && busy) return;
    following.current = false;
    setStage('cart');
  }

  // focusAfter puts the focus somewhere meaningful once the dialog has gone:
  // never on the page's body.
  function focusAfter() {
    const target = placedRef.current ?? (buyRef.current && !buyRef.current.disabled ? buyRef.current : headingRef.current);
    target?.focus();
  }

  return (
    <Paper withBorder p="md" pos="sticky" top={80} component="section" aria-labelledby="cart-heading">
      <Stack>
        <Title order={2} size="h3" id="cart-heading" ref={headingRef} tabIndex={-1}>
          Cart {cartCount(cart) > 0 && <Text span c="dimmed">({count(cartCount(cart))})</Text>}
        </Title>
        {placed && <Placed order={placed} ref={placedRef} onDismiss={() => setPlaced(undefined)} />}
        {cart.length === 0 ? (
          <Empty>Your cart is empty. Add a unicorn to start.</Empty>
        ) : (
          <Stack gap="xs">
            {cart.map((l) => (
              <Group key={l.productId} justify="space-between" wrap="nowrap" data-testid="cart-line" data-gone={l.gone || undefined}>
                <div style={{ minWidth: 0 }}>
                  <Text size="sm" fw={500} truncate td={l.gone ? 'line-through' : undefined}>{l.name}</Text>
                  {l.gone ? (
                    <Badge size="sm" color="red" variant="light">No longer sold</Badge>
                  ) : (
                    <Text size="xs" c="dimmed">${money(l.price)} each · ${formatMoney(lineAmount(l))}</Text>
                  )}
                </div>
                <Group gap={4} wrap="nowrap">
                  {!l.gone && <QuantityInput line={l} onSet={(quantity) => dispatch({ type: 'set', productId: l.productId, quantity })} />}
                  <ActionIcon variant="subtle" color="red" aria-label={`Remove ${l.name}`} onClick={() => dispatch({ type: 'remove', productId: l.productId })}>
                    ✕
                  </ActionIcon>
                </Group>
              </Group>
            ))}
            <Divider />
            <Group justify="space-between">
              <Text>Total</Text>
              <Text fw={600} data-testid="cart-total">${formatMoney(sums.total)}</Text>
            </Group>
            <Switch
              label={`Use my points (${count(balance)} available)`}
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
                  description={`At most ${count(most)} · 1 point = $${money(settings.point_value)}`}
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
            {blocked.length > 0 && (
              <Alert color="orange" p="xs" id="buy-blocked" data-testid="buy-blocked" title="You cannot buy this cart yet">
                <List size="sm" spacing={2}>
                  {blocked.map((b) => <List.Item key={b}>{b}</List.Item>)}
                </List>
              </Alert>
            )}
            <Button ref={buyRef} onClick={() => void review()} loading={checking} size="md" disabled={blocked.length > 0 || !buyable} aria-describedby={blocked.length > 0 ? 'buy-blocked' : undefined}>
              Buy now
            </Button>
          </Stack>
        )}
        {checkError !== undefined && <ErrorNote error={checkError} title="The store could not be checked" onRetry={() => void review()} />}
        {repricedNote && (
          <Alert color="orange" title="Prices changed" role="alert" data-testid="prices-changed">
            {repricedNote}
          </Alert>
        )}
      </Stack>
      <Modal
        opened={stage !== 'cart'}
        onClose={close}
        title={title}
        centered
        returnFocus={false}
        onExitTransitionEnd={focusAfter}
        closeOnClickOutside={!busy}
      >
        {stage === 'review' && (
          <ReviewStep cart={cart} sums={sums} wallet={walletBalance} pointValue={pointValue} busy={busy} error={error} onConfirm={() => void buy()} onBack={close} />
        )}
        {stage === 'following' && order && (
          <FollowStep order={order} follow={follow} busy={busy} onLeave={() => (following.current = false)} onClose={close} />
        )}
      </Modal>
    </Paper>
  );
}

// Placed confirms the last completed purchase in the cart, where the focus
// lands when the checkout dialog closes.
function Placed({ order, ref, onDismiss }: { order: Order; ref: Ref<HTMLDivElement>; onDismiss: () => void }) {
  const result = outcome(order);
  return (
    <Alert
      ref={ref}
      tabIndex={-1}
      color="teal"
      title={`Order ${orderNumber(order.id)} is placed`}
      data-testid="order-placed"
      withCloseButton
      closeButtonLabel="Dismiss"
      onClose={onDismiss}
    >
      <Stack gap={4}>
        <Text size="sm">{result.text}</Text>
        <Group gap="md">
          <Anchor href={`#/orders/${encodeURIComponent(order.id)}`} size="sm">See the order</Anchor>
          <Anchor href={`#/store/receipt/${encodeURIComponent(order.id)}`} size="sm">Receipt</Anchor>
        </Group>
      </Stack>
    </Alert>
  );
}
