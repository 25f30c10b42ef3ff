// The store: products (a list to sort and filter, and a page per product),
// the cart beside them, and on a phone a button that takes the customer to
// the cart while it is out of sight.
import {
  Affix, Anchor, Box, Button, Card, Grid, Group, Image, NativeSelect, NumberInput, SimpleGrid, Stack, Switch, Text, TextInput, Title, VisuallyHidden,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useEffect, useMemo, useState } from 'react';
import { Empty, Section } from '../components/States';
import type { User } from '../lib/api';
import { cartCount, cartTotal } from '../lib/cart';
import { useCart } from '../lib/cartStore';
import { defaultView, filtered, listed, type ListView, noImage, type SortBy, sortLabels, useCatalog } from '../lib/catalog';
import { count } from '../lib/format';
import { formatMoney, money } from '../lib/money';
import { useDocumentTitle } from '../lib/title';
import type { Product } from '../lib/types';
import { type Loaded, useApi } from '../lib/useApi';
import { CartPanel } from './CheckoutCart';
import { ProductPage, StockBadge } from './Product';
import { Receipt } from './Receipt';

// Store routes the rest of its address: p/{id} is a product's page,
// receipt/{orderId} a purchase's receipt, nothing the list.
export function Store({ user, rest = [] }: { user: User; rest?: string[] }) {
  const catalog = useCatalog();
  const canBuy = user.role === 'customer';
  if (rest[0] === 'receipt' && rest[1]) return <Receipt id={rest[1]} />;
  const productId = rest[0] === 'p' ? rest[1] : undefined;
  return (
    <Grid gap="lg">
      <Grid.Col span={{ base: 12, md: canBuy ? 8 : 12 }}>
        {productId ? <ProductPage id={productId} canBuy={canBuy} onChanged={catalog.reload} /> : <ProductList catalog={catalog} canBuy={canBuy} />}
      </Grid.Col>
      {canBuy && (
        <Grid.Col span={{ base: 12, md: 4 }} id="cart">
          <CartPanel user={user} catalog={catalog} />
        </Grid.Col>
      )}
      {canBuy && <CartShortcut />}
    </Grid>
  );
}

// useInView says whether the element with id shows on the screen, more
// than a sliver of it at the bottom edge (the bottom margin: a cart whose
// top just peeks in still needs the shortcut; its Buy now, at the cart's
// end, is then far below the screen).
function useInView(id: string): boolean {
  const [inView, setInView] = useState(false);
  useEffect(() => {
    const el = document.getElementById(id);
    if (!el) return;
    const io = new IntersectionObserver(([e]) => setInView(e.isIntersecting), { rootMargin: '0px 0px -120px 0px' });
    io.observe(el);
    return () => io.disconnect();
  }, [id]);
  return inView;
}

// CartShortcut: on a phone the cart is below the products; this button
// takes the customer there. It shows only while the cart is out of sight:
// floating over the cart it would cover the cart's own buttons (Buy now).
function CartShortcut() {
  const { cart } = useCart();
  const cartInView = useInView('cart');
  if (cartCount(cart) === 0) return null;
  return (
    <>
      {/* Room at the end of the page, so the button never covers the last product. */}
      <Box h={72} hiddenFrom="md" aria-hidden />
      {!cartInView && (
        <Affix position={{ bottom: 16, right: 16 }} hiddenFrom="md">
          <Button size="md" radius="xl" onClick={() => document.getElementById('cart')?.scrollIntoView({ behavior: 'smooth' })}>
            Cart ({count(cartCount(cart))}) · ${formatMoney(cartTotal(cart))}
          </Button>
        </Affix>
      )}
    </>
  );
}

function ProductList({ catalog, canBuy }: { catalog: Loaded<Product[]>; canBuy: boolean }) {
  useDocumentTitle('Unicorns');
  const [q, setQ] = useState('');
  const [query] = useDebouncedValue(q.trim(), 250);
  // The search is the store's (it knows the words of each product); sorting
  // and filtering happen here, on the catalog as it is now.
  const found = useApi<Product[]>(query ? `/products?q=${encodeURIComponent(query)}` : null);
  const [view, setView] = useState<ListView>(defaultView);
  const { cart, dispatch } = useCart();
  const matches = useMemo(() => (query && found.data ? new Set(found.data.map((p) => p.id)) : undefined), [query, found.data]);
  const searching = query !== '' && found.data === undefined && found.error === undefined;
  const load = searching ? { ...catalog, data: undefined } : query && found.error !== undefined ? { ...found, data: undefined } : catalog;

  return (
    <Stack>
      <Title order={1} size="h2">Unicorns</Title>
      <Group align="flex-end" gap="sm" role="search" aria-label="Find unicorns">
        <TextInput
          label="Search unicorns"
          placeholder="rainbow, golden…"
          type="search"
          value={q}
          onChange={(e) => setQ(e.currentTarget.value)}
          w={{ base: '100%', xs: 220 }}
        />
        <NativeSelect
          label="Sort by"
          value={view.sort}
          onChange={(e) => {
            const sort = e.currentTarget.value as SortBy;
            setView((v) => ({ ...v, sort }));
          }}
          data={Object.entries(sortLabels).map(([value, label]) => ({ value, label }))}
          w={{ base: '100%', xs: 180 }}
        />
        <SimpleGrid cols={2} spacing="xs" w={{ base: '100%', xs: 250 }}>
          <NumberInput label="Lowest price" prefix="$" min={0} decimalScale={2} thousandSeparator="," value={view.min} onChange={(v) => setView((x) => ({ ...x, min: typeof v === 'number' ? v : '' }))} />
          <NumberInput label="Highest price" prefix="$" min={0} decimalScale={2} thousandSeparator="," value={view.max} onChange={(v) => setView((x) => ({ ...x, max: typeof v === 'number' ? v : '' }))} />
        </SimpleGrid>
        <Switch label="In stock only" checked={view.inStock} onChange={(e) => {
            const inStock = e.currentTarget.checked;
            setView((v) => ({ ...v, inStock }));
          }} mb={8} />
      </Group>
      <Section load={load} isEmpty={(p) => p.length === 0} empty="The store has no unicorns yet.">
        {(items) => {
          const shown = listed(items, view, matches);
          if (shown.length === 0) {
            return (
              <Empty>
                {query ? `No unicorn matches “${query}”${filtered(view) ? ' with these filters' : ''}.` : 'No unicorn matches these filters.'}{' '}
                {filtered(view) && (
                  <Anchor component="button" type="button" onClick={() => setView({ ...defaultView, sort: view.sort })}>
                    Clear the filters
                  </Anchor>
                )}
              </Empty>
            );
          }
          return (
            <SimpleGrid cols={{ base: 1, xs: 2, lg: 3 }} data-testid="products">
              {shown.map((p) => (
                <ProductCard key={p.id} p={p} canBuy={canBuy} inCart={cart.find((l) => l.productId === p.id)?.quantity ?? 0} onAdd={() => dispatch({ type: 'add', product: p })} />
              ))}
            </SimpleGrid>
          );
        }}
      </Section>
    </Stack>
  );
}

// ProductCard: cards of a row are as tall as the tallest, their image fills
// the top and their buttons sit on one line at the bottom.
function ProductCard({ p, canBuy, inCart, onAdd }: { p: Product; canBuy: boolean; inCart: number; onAdd: () => void }) {
  const href = `#/store/p/${encodeURIComponent(p.id)}`;
  return (
    <Card withBorder padding="md" component="article" aria-label={p.name} data-testid="product" h="100%" style={{ display: 'flex', flexDirection: 'column' }}>
      <Card.Section>
        <a href={href} tabIndex={-1} aria-hidden>
          <Image src={p.image || undefined} alt="" h={180} w="100%" fit="cover" bg="grape.0" fallbackSrc={noImage} data-testid="product-image" />
        </a>
      </Card.Section>
      <Stack gap={4} mt="sm" style={{ flex: 1 }}>
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          <Anchor href={href} fw={600} c="dark" data-testid="product-name">
            {p.name}
          </Anchor>
          <Text fw={700} c="grape" style={{ whiteSpace: 'nowrap' }}>${money(p.price)}</Text>
        </Group>
        {p.description && <Text size="sm" c="dimmed" lineClamp={2}>{p.description}</Text>}
        <Stack gap="xs" mt="auto" pt="xs" data-testid="product-actions">
          <Group gap={6}>
            <StockBadge stock={p.stock} />
            {inCart > 0 && <Text size="xs" c="dimmed">{count(inCart)} in cart</Text>}
          </Group>
          {canBuy && (
            // The visible text is "Add to cart"; the product's name, hidden, makes each button's name its own.
            <Button size="sm" fullWidth onClick={onAdd} disabled={p.stock <= 0}>
              <span>
                Add<VisuallyHidden> {p.name}</VisuallyHidden> to cart
              </span>
            </Button>
          )}
        </Stack>
      </Stack>
    </Card>
  );
}
